// The personal menu: my activity with its quick durations, and a note colleagues see.
import { api } from "./api.js";
import { language, t } from "./i18n.js";
import { el } from "./dom.js";
import { activityText } from "./presence.js";

function durationText(m) {
  return m % 60 === 0 ? `${m / 60} ${t("hours")}` : `${m} ${t("minutes")}`;
}

export async function statusMenu() {
  const choices = await api("GET", "/users/me/activities");
  const current = el("p", { "data-testid": "my-activity" });
  const note = el("input", { name: "note", maxlength: "200", "data-testid": "note" });
  const showCurrent = (a) => {
    current.textContent = activityText(a);
  };
  const set = async (body) => {
    const out = await api("PUT", "/users/me/activity", { ...body, note: note.value.trim() });
    showCurrent(out);
  };
  const label = (b) => (language() === "sv" ? b.label_sv : b.label_en);
  const buttons = [el("button", { type: "button", class: "quick", onclick: () => set({ activity: "available" }) }, t("available"))];
  for (const b of choices.builtin) {
    if (b.activity === "available") continue;
    const durations = b.durations.length ? b.durations : [null];
    for (const d of durations) {
      const body = d === null ? { activity: b.activity } : { activity: b.activity, duration_minutes: d };
      const text = d === null ? label(b) : `${label(b)} ${durationText(d)}`;
      buttons.push(el("button", { type: "button", class: "quick", onclick: () => set(body) }, text));
    }
  }
  const mine = await api("GET", "/users/me/activity").catch(() => null);
  if (mine) {
    showCurrent(mine);
    note.value = mine.note || "";
  }
  return el(
    "section",
    { "data-testid": "status-menu" },
    el("h2", {}, t("myStatus")),
    current,
    el("label", {}, t("note"), note),
    el("div", { class: "quick-list" }, ...buttons),
  );
}
