// The operator view ("Förmedlingsvy"): the organization's incoming and queued calls, everyone's
// presence at a glance, and my call with the guide's keyboard shortcuts, exactly:
//   a answer · t transfer (then * or -) · * direct · - announced (- again completes) · h hang up ·
//   k park, and during an announced transfer back to the held call.
// Operators and admins see every call of the organization (GET /calls); a user sees their own.
import { api } from "./api.js";
import { result, searchDirectory } from "./dial.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { whenever } from "./live.js";
import { phone } from "./phone.js";
import { activityText } from "./presence.js";

const LIVE_TRANSFER = ["ringback", "answered"];
const QUEUE_TICK_MS = 1000;

function tile(p) {
  const state = p.call === "on_call" ? "oncall" : p.call === "ringing" ? "ringing" : p.activity;
  const call = p.call === "on_call" ? t("onCall") : p.call === "ringing" ? t("ringing") : activityText(p);
  return el(
    "li",
    { class: `tile presence ${state}`, "data-testid": `op-presence-${p.user_id}`, "data-activity": p.activity, "data-call": p.call },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "who" }, p.name, el("small", {}, ` ${p.extension ?? ""}`)),
    el("span", { class: "what" }, call),
  );
}

function callRow(c, testid) {
  return el(
    "li",
    { class: "call", "data-testid": `${testid}-${c.id}`, "data-state": c.state },
    el("span", { class: "who" }, c.peer_name || c.peer_number || "?", el("small", {}, ` ${c.peer_number}`)),
    el("span", { class: "what" }, c.endpoint || c.group || ""),
  );
}

export function operatorView(me) {
  const mine = new Set(me.devices.map((d) => d.sip_username));
  const incoming = el("ul", { class: "call-list", "data-testid": "op-incoming" });
  const queued = el("ul", { class: "call-list", "data-testid": "op-queued" });
  const active = el("div", { class: "op-active", "data-testid": "op-call" });
  const heldHalf = el("div", { class: "op-held", "data-testid": "op-held", hidden: "" });
  const target = el("input", { name: "op-target", type: "search", inputmode: "tel", autocomplete: "off", "data-testid": "op-target" });
  const results = el("ul", { class: "result-list", "data-testid": "op-results" });
  const panel = el("div", { class: "op-transfer", "data-testid": "op-transfer", hidden: "" });
  const notice = el("p", { class: "notice", role: "status", "data-testid": "op-notice" });
  const tiles = el("ul", { class: "tiles", "data-testid": "op-presence" });
  const collator = new Intl.Collator("sv", { sensitivity: "base" });
  let calls = [];
  let mode = null; // null, "pick", "direct", "announced"
  let transfer = null;
  let held = null; // the call waiting on the lower half during an announced transfer
  let queueTimer = null;

  const myCall = () => calls.find((c) => (mine.has(c.endpoint) || c.endpoint === phone().account?.sip_username) && c.bridged && !c.held);

  const draw = () => {
    const c = myCall();
    active.dataset.state = c ? "up" : "none";
    active.replaceChildren(c ? el("span", { class: "who" }, c.peer_name || c.peer_number, el("small", {}, ` ${c.peer_number}`)) : el("span", { class: "what" }, t("noCall")));
    const live = transfer && LIVE_TRANSFER.includes(transfer.state);
    heldHalf.hidden = !live;
    if (live) heldHalf.replaceChildren(el("span", {}, `${t("waiting")}: `), el("strong", {}, held ? held.peer_name || held.peer_number : ""));
    panel.hidden = !mode && !transfer;
    panel.dataset.mode = mode || "";
    panel.dataset.state = transfer ? transfer.state : "";
    const how = live ? `${t("transferState")} ${transfer.to}: ${t(`tx_${transfer.state}`)} · ${t("opAnnouncedKeys")}`
      : mode === "pick" ? t("opPick") : mode === "direct" ? t("opDirect") : mode === "announced" ? t("opAnnounced") : transfer ? t(`tx_${transfer.state}`) : "";
    panel.firstChild.textContent = how;
  };
  panel.append(el("p", { "data-testid": "op-transfer-text" }), el("label", {}, t("transferTo"), target), results);

  async function refresh() {
    try {
      if (transfer && LIVE_TRANSFER.includes(transfer.state)) transfer = await api("GET", `/calls/transfers/${transfer.id}`);
      calls = await api("GET", "/calls");
      incoming.replaceChildren(...calls.filter((c) => c.state === "Ringing").map((c) => callRow(c, "op-ringing")));
      const waiting = await api("GET", "/calls/queued").catch(() => []);
      queued.replaceChildren(...waiting.map((q) => callRow({ ...q, state: "queued", endpoint: `${q.group_name} · ${q.wait_s} s` }, "op-queued")));
      // While callers wait, their waiting time ticks and they leave the queue without a call event
      // of their own: read again every second until the queue is empty.
      clearTimeout(queueTimer);
      if (waiting.length) queueTimer = setTimeout(() => section.isConnected && refresh(), QUEUE_TICK_MS);
    } catch {
      /* the next event tries again */
    }
    draw();
  }
  async function presence() {
    try {
      const all = await api("GET", "/presence");
      tiles.replaceChildren(...all.filter((p) => p.user_id !== me.id).sort((a, b) => collator.compare(a.name, b.name)).map(tile));
    } catch {
      /* the next event tries again */
    }
  }

  const choose = (m) => {
    mode = m;
    draw();
    target.focus();
  };
  const execute = async (to) => {
    const c = myCall();
    const number = String(to || "").trim();
    if (!c || !number || !mode || mode === "pick") return;
    if (mode === "direct") {
      await api("POST", "/calls/transfer", { call: c.id, to: number });
      notice.textContent = `${t("transferredTo")} ${number}`;
    } else {
      held = c;
      transfer = await api("POST", "/calls/transfers", { call: c.id, to: number });
    }
    mode = null;
    target.value = "";
    results.replaceChildren();
    target.blur();
    await refresh();
  };
  const finish = async (how) => {
    if (!transfer) return;
    transfer = await api("POST", `/calls/transfers/${transfer.id}/${how}`, {});
    notice.textContent = `${t("transferState")} ${transfer.to}: ${t(`tx_${transfer.state}`)}`;
    if (!LIVE_TRANSFER.includes(transfer.state)) held = null;
    await refresh();
  };
  const transferring = () => transfer && LIVE_TRANSFER.includes(transfer.state);

  let searchTimer = null;
  target.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const items = await searchDirectory(target.value.trim()).catch(() => []);
      results.replaceChildren(...items.map((i) => result(i, (n) => execute(n))));
    }, 200);
  });
  target.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      const typed = target.value.trim();
      const first = results.querySelector("li button");
      if (/^[+\d]/.test(typed) || !first) execute(typed).catch((e) => (notice.textContent = e.message));
      else first.click();
    } else if (ev.key === "Escape") {
      mode = null;
      target.blur();
      draw();
    }
  });

  const keys = {
    a: () => phone().answer(),
    t: () => myCall() && choose("pick"),
    "*": () => myCall() && choose("direct"),
    "-": () => (transferring() ? finish("complete") : myCall() && choose("announced")),
    h: async () => {
      if (transferring()) return finish("cancel");
      const c = myCall();
      if (c) await api("POST", "/calls/hangup", { call: c.id });
    },
    k: async () => {
      if (transferring()) return finish("cancel");
      const c = myCall();
      if (!c) return;
      const out = await api("POST", "/calls/park", { call: c.id });
      notice.textContent = `${t("parkedIn")} ${out.slot}`;
    },
  };
  const section = el(
    "section",
    { class: "operator", "data-testid": "operator" },
    el("h2", {}, t("operatorView")),
    el("p", { class: "hint", "data-testid": "op-keys" }, t("opKeys")),
    el(
      "div",
      { class: "op-grid" },
      el(
        "div",
        {},
        el("h3", {}, t("incoming")),
        incoming,
        el("h3", {}, t("queued")),
        queued,
        el("h3", {}, t("myCall")),
        el("div", { class: "op-card" }, active, heldHalf),
        panel,
        notice,
      ),
      el("div", {}, el("h3", {}, t("colleagues")), tiles),
    ),
  );
  const onKey = (ev) => {
    if (!section.isConnected) return document.removeEventListener("keydown", onKey);
    if (ev.target instanceof HTMLInputElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const action = keys[ev.key];
    if (!action) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    Promise.resolve(action()).catch((e) => (notice.textContent = e.message));
  };
  document.addEventListener("keydown", onKey);
  let phoneCall = "none";
  phone().onChange((p) => {
    const now = p.call ? p.call.state : "none";
    if (now !== phoneCall) refresh();
    phoneCall = now;
  });
  whenever(["channel", "call", "transfer", "queue"], refresh);
  whenever(["presence"], presence);
  refresh();
  presence();
  return section;
}
