// My call history (GET /users/me/history): all, missed or voicemail; call back (POST /calls, click-to-call).
import { api } from "./api.js";
import { language, t } from "./i18n.js";
import { el } from "./dom.js";
import { openCard } from "./card.js";
import { listenTo } from "./voicemail.js";

function entry(h) {
  const when = new Date(h.started_at).toLocaleString(language() === "sv" ? "sv-SE" : "en-GB", {
    dateStyle: "short",
    timeStyle: "short",
  });
  const back = el("button", { type: "button", class: "quick" }, t("callBack"));
  back.addEventListener("click", () => api("POST", "/calls", { to: h.peer_number }).catch(() => {}));
  return el(
    "li",
    { class: `history ${h.missed ? "missed" : ""}`, "data-testid": `history-${h.id}`, "data-result": h.result },
    el("span", { class: "who" }, el("button", { type: "button", class: "link", "aria-label": `${t("openCard")} ${h.peer_name || h.peer_number}`, onclick: () => openCard({ number: h.peer_number, name: h.peer_name }).catch(() => {}) }, h.peer_name || h.peer_number), el("small", {}, ` ${h.peer_number}`)),
    el("span", { class: "what" }, `${h.direction === "in" ? "←" : "→"} ${when}`),
    back,
    h.result === "voicemail" ? el("button", { type: "button", class: "quick", "aria-label": `${t("vmListen")}: ${t("vmFrom")} ${h.peer_name || h.peer_number}`, onclick: () => listenTo(h.peer_number, h.started_at) }, t("vmListen")) : "",
  );
}

export function historySection() {
  const list = el("ul", { class: "history-list", "data-testid": "history" });
  let filter = "all";
  const tabs = ["all", "missed", "voicemail"].map((f) => {
    const b = el("button", { type: "button", class: "quick", "data-filter": f }, t(f));
    b.addEventListener("click", () => {
      filter = f;
      load();
    });
    return b;
  });
  async function load() {
    for (const b of tabs) b.setAttribute("aria-pressed", String(b.dataset.filter === filter));
    const query = filter === "all" ? "" : `&filter=${filter}`;
    try {
      const page = await api("GET", `/users/me/history?limit=50${query}`);
      list.replaceChildren(...page.items.map(entry));
    } catch {
      list.replaceChildren();
    }
  }
  load();
  return el("section", { "data-testid": "history-section" }, el("h2", {}, t("history")), el("div", { class: "quick-list" }, ...tabs), list);
}
