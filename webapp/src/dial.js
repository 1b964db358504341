// The Call screen: a number field with a dial pad, and one search over colleagues, contacts and
// answer groups (GET /directory: starred first, then Swedish alphabetical order). A call goes out from
// the page's own softphone when it is registered, else through click-to-call (POST /calls: my phones ring).
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { phone } from "./phone.js";
import { openCard } from "./card.js";
import { onMarksChanged, setFavorite } from "./people.js"; // star or unstar (favorites come first in every search)

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const SEARCH_DELAY_MS = 200;
const NUMBER = /^[+\d*#][\d\s\-*#()]*$/;

export async function placeCall(to, notice) {
  const target = String(to).trim();
  if (!target) return;
  const p = phone();
  if (p.ready) {
    await p.dial(target.replace(/[\s\-()]/g, ""));
  } else {
    await api("POST", "/calls", { to: target });
    if (notice) notice.textContent = `${t("ringingYourPhone")} ${target}`;
  }
}

// One search over colleagues, answer groups and contacts; nothing typed: my favorites.
export async function searchDirectory(q, limit = 20) {
  const query = q ? `q=${encodeURIComponent(q)}&limit=${limit}` : `favorites=true&limit=${limit}`;
  return api("GET", `/directory?${query}`);
}


export function result(item, call, starred = null) {
  const kind = t(`kind_${item.kind}`);
  let star = item.favorite || item.vip ? el("span", { class: "star", "aria-label": t("favorite") }, "★") : "";
  if (starred) {
    const on = Boolean(item.favorite);
    star = el(
      "button",
      { type: "button", class: "star-toggle", "aria-pressed": String(on), "aria-label": `${t(on ? "unstar" : "star")} ${item.name}` },
      on || item.vip ? "★" : "☆",
    );
    star.addEventListener("click", () => setFavorite(item, !on).then(starred).catch(() => {}));
  }
  const numbers = item.numbers.map((n) =>
    el("button", { type: "button", class: "quick", onclick: () => call(n.number), "aria-label": `${t("call")} ${item.name} ${n.number}` }, n.number),
  );
  return el(
    "li",
    { class: `result ${item.kind}`, "data-testid": `result-${item.kind}-${item.id}` },
    star,
    el("span", { class: "who" }, el("button", { type: "button", class: "link", "aria-label": `${t("openCard")} ${item.name}`, onclick: () => openCard(item).catch(() => {}) }, item.name), el("small", {}, ` ${kind}${item.company ? ` · ${item.company}` : ""}`)),
    el("span", { class: "quick-list" }, ...numbers),
  );
}

export function dialSection() {
  const number = el("input", {
    name: "dial",
    type: "search",
    inputmode: "tel",
    autocomplete: "off",
    "data-testid": "dial-input",
    placeholder: t("searchOrNumber"),
  });
  const notice = el("p", { class: "notice", role: "status", "data-testid": "dial-notice" });
  const results = el("ul", { class: "result-list", "data-testid": "results" });
  const go = el("button", { type: "submit", "data-testid": "dial-call" }, t("call"));
  const call = (to) => placeCall(to, notice).catch((e) => (notice.textContent = e.message));
  const pad = el(
    "div",
    { class: "dialpad", role: "group", "aria-label": t("dialpad") },
    ...KEYS.map((k) =>
      el("button", { type: "button", class: "key", "data-digit": k, onclick: () => {
        if (phone().call && phone().call.state === "confirmed") phone().dtmf(k);
        else number.value += k;
        number.focus();
      } }, k),
    ),
  );
  let timer = null;
  let asked = 0;
  const search = async () => {
    const q = number.value.trim();
    const mine = ++asked;
    try {
      const items = await searchDirectory(q);
      if (mine === asked) results.replaceChildren(...items.map((i) => result(i, call, search)));
    } catch {
      if (mine === asked) results.replaceChildren();
    }
  };
  number.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  const form = el("form", { class: "dial", "data-testid": "dial" }, el("label", {}, t("callLabel"), number), go);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = number.value.trim();
    if (NUMBER.test(q)) return call(q);
    const first = results.querySelector("li button");
    if (first) first.click();
  });
  search();
  const section = el("section", { class: "call-screen", "data-testid": "call-screen" }, el("h2", {}, t("callTitle")), form, pad, notice, results);
  onMarksChanged(section, search); // starred elsewhere (Favorites, a contact card): the list follows
  return section;
}
