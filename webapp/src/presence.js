// Colleagues' presence (GET /presence), read again on every presence.changed event (an activity, a
// note, a call starting or ending) and when a shown activity's end time passes. Swedish collation.
import { api } from "./api.js";
import { language, t } from "./i18n.js";
import { el } from "./dom.js";
import { whenever } from "./live.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

export function activityText(p) {
  const label = p.activity === "custom" && p.label ? p.label : t(p.activity);
  if (!p.until || p.activity === "available") return label;
  const time = new Date(p.until).toLocaleTimeString(language() === "sv" ? "sv-SE" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
  });
  return `${label} ${t("until")} ${time}`;
}

function row(p) {
  const state = p.call === "on_call" ? "oncall" : p.call === "ringing" ? "ringing" : p.activity;
  const call = p.call === "on_call" ? ` · ${t("onCall")}` : p.call === "ringing" ? ` · ${t("ringing")}` : "";
  return el(
    "li",
    { class: `presence ${state}`, "data-testid": `presence-${p.user_id}`, "data-activity": p.activity },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "who" }, `${p.name}`, el("small", {}, ` ${p.extension ?? ""}`)),
    el("span", { class: "what" }, activityText(p) + call, p.note ? el("em", {}, ` ${p.note}`) : ""),
  );
}

export function presenceList(meId) {
  const list = el("ul", { class: "presence-list", "data-testid": "presence" });
  const section = el("section", {}, el("h2", {}, t("colleagues")), list);
  const collator = new Intl.Collator("sv", { sensitivity: "base" });
  let timer = null;
  async function refresh() {
    try {
      const all = await api("GET", "/presence");
      const others = all.filter((p) => p.user_id !== meId).sort((a, b) => collator.compare(a.name, b.name));
      list.replaceChildren(...others.map(row));
      // An activity that ends turns into available without any write: read again just after.
      const ends = all.map((p) => Date.parse(p.until || "")).filter((t) => t > Date.now());
      clearTimeout(timer);
      if (ends.length) timer = setTimeout(() => section.isConnected && refresh(), Math.min(Math.min(...ends) - Date.now() + 1000, MAX_TIMER_MS));
    } catch {
      /* signed out or offline: the next event tries again */
    }
  }
  refresh();
  whenever(["presence"], refresh);
  return section;
}
