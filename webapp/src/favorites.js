// The Favorites and VIP page: my starred colleagues, answer groups and contacts (GET
// /directory?favorites=true) in Swedish alphabetical order (å, ä, ö after z), colleagues with their
// presence (GET /presence, live on presence.changed), my VIP and blocked numbers
// (GET /users/me/caller-lists), and every colleague with a star to make them a favorite.
import { api } from "./api.js";
import { openCard } from "./card.js";
import { placeCall } from "./dial.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { whenever } from "./live.js";
import { activityText } from "./presence.js";
import { callerLists, collator, onMarksChanged, setCallerMark, setFavorite } from "./people.js";

function presenceClass(p) {
  if (!p) return "";
  if (p.call === "on_call") return "oncall";
  if (p.call === "ringing") return "ringing";
  return p.activity === "available" ? "available" : "away";
}

function presenceText(p) {
  if (!p) return "";
  const call = p.call === "on_call" ? ` · ${t("onCall")}` : p.call === "ringing" ? ` · ${t("ringing")}` : "";
  return activityText(p) + call + (p.note ? ` · ${p.note}` : "");
}

function star(item, on, after) {
  const b = el(
    "button",
    {
      type: "button",
      class: "star-toggle",
      "aria-pressed": String(on),
      "aria-label": `${t(on ? "unstar" : "star")} ${item.name}`,
      "data-testid": `fav-star-${item.kind}-${item.id}`,
    },
    on ? "★" : "☆",
  );
  b.addEventListener("click", () => setFavorite(item, !on).then(after).catch(() => {}));
  return b;
}

function nameButton(item, testid) {
  const b = el("button", { type: "button", class: "link", "aria-label": `${t("openCard")} ${item.name}`, "data-testid": testid }, item.name);
  b.addEventListener("click", () => openCard(item).catch(() => {}));
  return b;
}

function callButtons(item) {
  return item.numbers.map((n) =>
    el("button", { type: "button", class: "quick", "aria-label": `${item.name}: ${t("call")} ${n.number}`, onclick: () => placeCall(n.number).catch(() => {}) }, n.number),
  );
}

export function favoritesSection(meId) {
  const favs = el("ul", { class: "fav-list", "data-testid": "fav-list" });
  const vips = el("ul", { class: "callers-list", "data-testid": "vip-list" });
  const blocked = el("ul", { class: "callers-list", "data-testid": "blocked-list" });
  const colleagues = el("ul", { class: "fav-list", "data-testid": "fav-colleagues" });
  const section = el(
    "section",
    { class: "favorites", "data-testid": "favorites-section" },
    el("h2", {}, t("favTitle")),
    favs,
    el("h3", {}, t("vipCallers")),
    vips,
    el("h3", {}, t("blockedCallers")),
    blocked,
    el("details", { "data-testid": "fav-all" }, el("summary", {}, t("allColleagues")), colleagues),
  );
  let asked = 0;

  function callerRow(e, colleagueName) {
    const who_ = e.contact_name || colleagueName;
    const label = who_ ? `${who_} · ${e.number}` : e.number;
    const remove = el("button", { type: "button", class: "quick", "aria-label": `${t("remove")} ${label}`, "data-testid": `caller-remove-${e.id}` }, t("remove"));
    remove.addEventListener("click", () => setCallerMark(e.number, e.kind, false, e.contact_id ? { kind: "contact", id: e.contact_id } : null).catch(() => {}));
    const call = el("button", { type: "button", class: "quick", "aria-label": `${label}: ${t("call")}`, onclick: () => placeCall(e.number).catch(() => {}) }, t("call"));
    const who = el("button", { type: "button", class: "link", "aria-label": `${t("openCard")} ${label}` }, label);
    who.addEventListener("click", () => openCard({ number: e.number, name: who_ }).catch(() => {}));
    return el("li", { class: "fav", "data-testid": `caller-${e.kind}-${e.id}`, "data-number": e.number }, el("span", { class: "who" }, who), call, remove);
  }

  async function load() {
    const mine = ++asked;
    try {
      const [items, presence, entries] = await Promise.all([
        api("GET", "/directory?favorites=true&limit=500"),
        api("GET", "/presence").catch(() => []),
        callerLists().catch(() => []),
      ]);
      if (mine !== asked) return;
      const byUser = new Map(presence.map((p) => [p.user_id, p]));
      const starred = items.filter((i) => i.favorite || i.vip).sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id);
      favs.replaceChildren(
        ...(starred.length
          ? starred.map((i) => {
              const p = i.kind === "user" ? byUser.get(i.id) : null;
              return el(
                "li",
                { class: `fav ${i.kind} ${presenceClass(p)}`, "data-testid": `fav-${i.kind}-${i.id}`, "data-name": i.name },
                i.kind === "user" ? el("span", { class: "dot", "aria-hidden": "true" }) : "",
                star(i, i.favorite, load),
                el("span", { class: "who" }, nameButton(i, `fav-card-${i.kind}-${i.id}`), el("small", {}, ` ${t(`kind_${i.kind}`)}${i.vip ? " · VIP" : ""}`)),
                ...callButtons(i),
                p ? el("span", { class: "what", "data-testid": `fav-presence-${i.id}`, "data-activity": p.activity }, presenceText(p)) : "",
              );
            })
          : [el("li", { class: "fav" }, t("favEmpty"))]),
      );
      const list = (kind) => entries.filter((e) => e.kind === kind).sort((a, b) => collator.compare(a.contact_name || a.number, b.contact_name || b.number) || a.id - b.id);
      const orNone = (rows) => (rows.length ? rows : [el("li", { class: "fav" }, t("noneListed"))]);
      const byExtension = new Map(presence.filter((p) => p.extension).map((p) => [p.extension, p.name]));
      const rows = (kind) => orNone(list(kind).map((e) => callerRow(e, byExtension.get(e.number))));
      vips.replaceChildren(...rows("vip"));
      blocked.replaceChildren(...rows("blocked"));
      const starredUsers = new Set(starred.filter((i) => i.kind === "user" && i.favorite).map((i) => i.id));
      colleagues.replaceChildren(
        ...presence
          .filter((p) => p.user_id !== meId)
          .sort((a, b) => collator.compare(a.name, b.name))
          .map((p) => {
            const item = { kind: "user", id: p.user_id, name: p.name, extension: p.extension, numbers: p.extension ? [{ number: p.extension, label: "extension" }] : [], favorite: starredUsers.has(p.user_id) };
            return el(
              "li",
              { class: `fav user ${presenceClass(p)}`, "data-testid": `colleague-${p.user_id}` },
              el("span", { class: "dot", "aria-hidden": "true" }),
              star(item, item.favorite, load),
              el("span", { class: "who" }, nameButton(item, `colleague-card-${p.user_id}`)),
              ...callButtons(item),
              el("span", { class: "what" }, presenceText(p)),
            );
          }),
      );
    } catch {
      /* signed out or offline: the next event reads again */
    }
  }

  load();
  whenever(["presence"], load);
  onMarksChanged(section, load);
  return section;
}
