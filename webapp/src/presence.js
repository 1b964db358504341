// Colleagues' presence (GET /presence), refreshed every few seconds: the events stream carries calls,
// not activities, so the list is polled. Swedish collation for names.
import { api } from "./api.js";
import { language, t } from "./i18n.js";
import { el } from "./dom.js";

const POLL_MS = 3000;

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
    } catch {
      /* signed out or offline: the next tick tries again */
    }
  }
  refresh();
  timer = setInterval(() => {
    if (!section.isConnected) clearInterval(timer);
    else refresh();
  }, POLL_MS);
  return section;
}
