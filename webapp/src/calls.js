// My ongoing calls (GET /calls, read again on every call event of the live WebSocket) as call cards:
// hang up, park, hold/resume.
// Keyboard: h hang up, k park, * hold or resume, t transfer to the number typed in "transfer to",
// - announced transfer to it (- again completes it), on the first call (the one at the top).
import { api } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./dom.js";
import { whenever } from "./live.js";
import { phone } from "./phone.js";
import { callExtras, watchConferences } from "./callextras.js";

// Mine only: operators and admins get every call of the organization from GET /calls (the
// operator view shows those).
export function callsSection(me) {
  const devices = new Set(me.devices.map((d) => d.sip_username));
  const mine = (c) => devices.has(c.endpoint) || c.endpoint === phone().account?.sip_username;
  const list = el("ul", { class: "call-list", "data-testid": "calls" });
  const notice = el("p", { class: "notice", "data-testid": "call-notice", role: "status" });
  const target = el("input", { name: "transfer-to", inputmode: "tel", "data-testid": "transfer-to" });
  const panel = el("div", { class: "transfer", "data-testid": "transfer", hidden: "" });
  const section = el(
    "section",
    {},
    el("h2", {}, t("calls")),
    list,
    el("label", {}, t("transferTo"), target),
    panel,
    notice,
  );
  let calls = [];
  let transfer = null;

  const showTransfer = () => {
    if (!transfer) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    panel.dataset.state = transfer.state;
    panel.replaceChildren(
      el("span", {}, `${t("transferState")} ${transfer.to}: ${transfer.state}`),
      el("button", { type: "button", class: "quick", onclick: () => finish("complete") }, t("complete")),
      el("button", { type: "button", class: "quick", onclick: () => finish("cancel") }, t("cancel")),
    );
  };
  const finish = async (how) => {
    if (!transfer) return;
    transfer = await api("POST", `/calls/transfers/${transfer.id}/${how}`, {});
    showTransfer();
    transfer = null;
    await refresh();
  };
  const announced = async (c) => {
    if (transfer) return finish("complete");
    const to = target.value.trim();
    if (!to) return target.focus();
    transfer = await api("POST", "/calls/transfers", { call: c.id, to });
    showTransfer();
  };
  const blind = async (c) => {
    const to = target.value.trim();
    if (!to) return target.focus();
    await api("POST", "/calls/transfer", { call: c.id, to });
    target.value = "";
    await refresh();
  };
  target.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && calls.length) blind(calls[0]).catch(() => {});
  });

  const act = async (path, call) => {
    const out = await api("POST", path, { call: call.id });
    if (path === "/calls/park" && out) notice.textContent = `${t("parkedIn")} ${out.slot}`;
    await refresh();
  };
  const actions = {
    h: (c) => act("/calls/hangup", c),
    k: (c) => act("/calls/park", c),
    "*": (c) => act(c.held ? "/calls/resume" : "/calls/hold", c),
    t: (c) => blind(c),
    "-": (c) => announced(c),
  };

  const KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
  const openPads = new Set(); // cards whose keypad is open (kept over a redraw)
  let keys = Promise.resolve(); // one key after the other, in the order pressed
  const press = (c, k) => {
    keys = keys.then(() => api("POST", "/calls/dtmf", { call: c.id, digits: k })).catch(() => {});
  };
  function keypad(c) {
    const pad = el(
      "div",
      { class: "dialpad card-pad", role: "group", "aria-label": t("dialpad"), "data-testid": `keypad-${c.id}` },
      ...KEYPAD.map((k) =>
        el("button", { type: "button", class: "key", "data-digit": k, onclick: () => press(c, k) }, k),
      ),
    );
    pad.hidden = !openPads.has(c.id);
    return pad;
  }

  function card(c) {
    const button = (key, text) =>
      el("button", { type: "button", class: "quick", "data-key": key, onclick: () => actions[key](c) }, text);
    const pad = keypad(c);
    const toggle = el("button", { type: "button", class: "quick", "aria-expanded": String(!pad.hidden), "data-testid": `keypad-toggle-${c.id}` }, t("dialpad"));
    toggle.addEventListener("click", () => {
      if (openPads.has(c.id)) openPads.delete(c.id);
      else openPads.add(c.id);
      pad.hidden = !openPads.has(c.id);
      toggle.setAttribute("aria-expanded", String(!pad.hidden));
    });
    const extras = callExtras(c, notice, refresh);
    return el(
      "li",
      { class: `call ${c.held ? "held" : ""}`, "data-testid": `call-${c.id}`, "data-state": c.state },
      el("span", { class: "who" }, c.peer_name || c.peer_number, el("small", {}, ` ${c.peer_number}`)),
      el("span", { class: "what" }, c.held ? t("held") : c.state),
      el(
        "span",
        { class: "quick-list" },
        button("*", c.held ? t("resume") : t("hold")),
        button("k", t("park")),
        button("t", t("transfer")),
        button("-", t("announced")),
        button("h", t("hangUp")),
        toggle,
        ...extras.buttons,
      ),
      pad,
      ...extras.below,
    );
  }

  async function refresh() {
    try {
      if (transfer) {
        transfer = await api("GET", `/calls/transfers/${transfer.id}`);
        showTransfer();
        if (!["ringback", "answered"].includes(transfer.state)) transfer = null;
      }
      calls = (await api("GET", "/calls")).filter(mine);
      list.replaceChildren(...calls.map(card));
    } catch {
      /* the next tick tries again */
    }
  }
  const onKey = (ev) => {
    if (!section.isConnected) return document.removeEventListener("keydown", onKey);
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const action = actions[ev.key];
    if (action && (calls.length || (ev.key === "-" && transfer))) {
      ev.preventDefault();
      action(calls[0]).catch(() => {});
    }
  };
  document.addEventListener("keydown", onKey);
  refresh();
  whenever(["channel", "call", "transfer"], refresh);
  watchConferences(() => list.replaceChildren(...calls.map(card)));
  return section;
}
