// The contact card, opened from search, favorites, history and voicemail: a colleague's presence
// (GET /presence?user_id=) and the answer groups they are logged in to (GET /groups), a contact's
// note (GET /contacts/{id}), every number as a call button, and the favorite / VIP / block toggles.
// A number nobody has can be saved to my phonebook (POST /users/me/contacts). A modal <dialog>:
// Escape or Close shuts it, the focus stays inside.
import "./people.css";
import { api } from "./api.js";
import { el } from "./dom.js";
import { placeCall } from "./dial.js";
import { t } from "./i18n.js";
import { activityText } from "./presence.js";
import { callerLists, callerNumberOf, callerState, lookupNumber, setCallerMark, setFavorite } from "./people.js";

let dialog = null;

function toggle(name, on, testid, fn, mark = "") {
  const b = el("button", { type: "button", class: "toggle", "aria-pressed": String(on), "data-testid": testid, "data-mark": mark }, name);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await fn(b.getAttribute("aria-pressed") !== "true");
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function presenceLine(p) {
  const state = p.call === "on_call" ? "oncall" : p.call === "ringing" ? "ringing" : p.activity;
  const call = p.call === "on_call" ? ` · ${t("onCall")}` : p.call === "ringing" ? ` · ${t("ringing")}` : "";
  return el(
    "p",
    { class: `presence ${state}`, "data-testid": "card-presence", "data-activity": p.activity },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "what" }, activityText(p) + call),
  );
}

// target: a directory item ({kind, id, name, numbers, ...}) or {number, name} (from a call or a message).
export async function openCard(target) {
  if (!dialog) {
    dialog = el("dialog", { class: "card", "data-testid": "contact-card", "aria-labelledby": "card-title" });
    document.body.append(dialog);
  }
  const opener = document.activeElement;
  dialog.onclose = () => opener && opener.isConnected && opener.focus();
  await render(target);
  if (!dialog.open) dialog.showModal();
  dialog.querySelector("[data-autofocus]")?.focus();
}

export function closeCard() {
  if (dialog && dialog.open) dialog.close();
}

async function render(target) {
  let item = target.kind ? target : await lookupNumber(target.number).catch(() => null);
  if (item && item.kind === "contact") item = { ...item, ...(await api("GET", `/contacts/${item.id}`)), kind: "contact" };
  const number = item ? callerNumberOf(item) : target.number;
  const name = item ? item.name : target.name || number || t("unknownCaller");
  const redraw = () => render(item || target);
  const body = [];
  const close = el("button", { type: "button", class: "quick", "data-autofocus": "", "data-testid": "card-close" }, t("close"));
  close.addEventListener("click", () => dialog.close());
  const kind = item ? t(`kind_${item.kind}`) + (item.book && item.book !== "organization" ? ` · ${t(`book_${item.book}`)}` : "") : number;
  body.push(
    el("div", { class: "card-head" }, el("h2", { id: "card-title" }, name, el("small", {}, ` ${kind}`)), close),
  );
  if (item && item.company) body.push(el("p", { class: "company" }, item.company));

  if (item && item.kind === "user") {
    const [presence, groups] = await Promise.all([
      api("GET", `/presence?user_id=${item.id}`).catch(() => []),
      api("GET", "/groups").catch(() => []),
    ]);
    if (presence[0]) {
      body.push(el("h3", {}, t("presence")), presenceLine(presence[0]));
      if (presence[0].note) body.push(el("p", { class: "note", "data-testid": "card-note" }, presence[0].note));
    }
    const logged = groups.filter((g) => g.members.some((m) => m.user_id === item.id && m.logged_in));
    if (logged.length) body.push(el("p", { "data-testid": "card-groups" }, `${t("inGroups")} ${logged.map((g) => g.name).join(", ")}`));
  }
  if (item && item.kind === "contact" && item.note) {
    body.push(el("h3", {}, t("contactNote")), el("p", { class: "note", "data-testid": "card-note" }, item.note));
  }

  const numbers = item ? item.numbers : [{ number, label: "" }];
  body.push(
    el("h3", {}, t("numbers")),
    el(
      "ul",
      { class: "card-numbers" },
      ...numbers.map((n) =>
        el(
          "li",
          {},
          el("button", { type: "button", class: "quick", "aria-label": `${name}: ${t("call")} ${n.number}`, onclick: () => placeCall(n.number).catch(() => {}) }, `${t("call")} ${n.number}`),
          n.label ? el("small", {}, ` ${n.label}`) : "",
        ),
      ),
    ),
  );

  const toggles = [];
  if (item) {
    const fav = Boolean(item.favorite);
    toggles.push(toggle(t("favoriteToggle"), fav, "card-favorite", async (on) => {
      await setFavorite(item, on);
      item = { ...item, favorite: on };
      await redraw();
    }));
  }
  if (!item || item.kind !== "group") {
    const entries = await callerLists().catch(() => []);
    let state = callerState(entries, number);
    if (item && item.kind === "contact") {
      const own = item.numbers.map((n) => callerState(entries.filter((e) => !e.contact_id), n.number));
      state = { vip: item.vip || own.some((s) => s.vip), blocked: item.blocked || own.some((s) => s.blocked) };
    }
    for (const [kind, label] of [["vip", t("vip")], ["blocked", t("block")]]) {
      toggles.push(toggle(label, state[kind], `card-${kind}`, async (on) => {
        await setCallerMark(number, kind, on, item);
        if (item && item.kind === "contact") item = { ...item, ...(await api("GET", `/contacts/${item.id}`)), kind: "contact" };
        await redraw();
      }, kind));
    }
  }
  body.push(el("div", { class: "quick-list toggles", role: "group", "aria-label": t("contactCard") }, ...toggles));

  if (!item && number) {
    const nameInput = el("input", { name: "contact-name", value: target.name || "", required: "", "data-testid": "card-save-name" });
    const form = el(
      "form",
      { class: "card-save", "data-testid": "card-save" },
      el("label", {}, t("nameLabel"), nameInput),
      el("button", { type: "submit" }, t("saveToPhonebook")),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const created = await api("POST", "/users/me/contacts", { name: nameInput.value.trim() || number, numbers: [{ number }] });
      window.dispatchEvent(new Event("pbx:marks-changed"));
      await render({ ...created, kind: "contact" });
    });
    body.push(form);
  }
  dialog.dataset.kind = item ? item.kind : "number";
  dialog.replaceChildren(...body);
}
