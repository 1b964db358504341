// What the page's softphone shows: a bar with its state (and, in a call, the audio packets flowing
// both ways, mute and hang up), and the incoming call screen: answer with the button or `a`.
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { notifyIncoming } from "./notify.js";
import { phone } from "./phone.js";

function callText(c) {
  const who = c.name ? `${c.name} ${c.peer}` : c.peer;
  return `${t(c.direction === "in" ? "callFrom" : "callTo")} ${who}: ${t(`phone_${c.state}`)}`;
}

export function phoneBar() {
  const status = el("span", { class: "phone-status", "data-testid": "phone-status" });
  const audio = el("output", { class: "phone-audio", "data-testid": "phone-audio" });
  const mute = el("button", { type: "button", class: "quick", "data-testid": "phone-mute" }, t("mute"));
  const hang = el("button", { type: "button", class: "quick danger", "data-testid": "phone-hangup" }, t("hangUp"));
  mute.addEventListener("click", () => phone().mute(!(phone().call && phone().call.muted)));
  hang.addEventListener("click", () => phone().hangup());
  const bar = el("section", { class: "phone-bar", "data-testid": "phone", "aria-live": "polite" }, status, audio, mute, hang);
  phone().onChange((p) => {
    bar.dataset.status = p.status;
    const c = p.call;
    bar.dataset.call = c ? c.state : "none";
    status.textContent = c ? callText(c) : `${t("webphone")}: ${t(`phone_${p.status}`)}`;
    const inCall = Boolean(c && ["confirmed", "held"].includes(c.state));
    audio.hidden = mute.hidden = !inCall;
    hang.hidden = !c || c.state === "ringing";
    audio.dataset.inbound = String(p.audio.inbound);
    audio.dataset.outbound = String(p.audio.outbound);
    audio.dataset.pair = p.audio.pair || "";
    audio.textContent = `${t("audioIn")} ${p.audio.inbound} · ${t("audioOut")} ${p.audio.outbound} ${t("packets")}`;
    mute.textContent = c && c.muted ? t("unmute") : t("mute");
    mute.setAttribute("aria-pressed", String(Boolean(c && c.muted)));
  });
  return bar;
}

export function incomingScreen() {
  const who = el("p", { class: "incoming-who", "data-testid": "incoming-who" });
  const answer = el("button", { type: "button", class: "answer", "data-key": "a", "aria-keyshortcuts": "a" }, t("answer"));
  const decline = el("button", { type: "button", class: "decline" }, t("decline"));
  answer.addEventListener("click", () => phone().answer());
  decline.addEventListener("click", () => phone().decline());
  const screen = el(
    "section",
    { class: "incoming", role: "alertdialog", "aria-labelledby": "incoming-title", "data-testid": "incoming", hidden: "" },
    el("h2", { id: "incoming-title" }, t("incomingCall")),
    who,
    el("div", { class: "quick-list" }, answer, decline),
    el("p", { class: "hint" }, t("answerHint")),
  );
  let ringing = false;
  phone().onChange((p) => {
    const now = Boolean(p.call && p.call.direction === "in" && p.call.state === "ringing");
    screen.hidden = !now;
    if (now) who.textContent = p.call.name ? `${p.call.name} ${p.call.peer}` : p.call.peer;
    if (now && !ringing) {
      answer.focus();
      notifyIncoming(p.call);
    }
    ringing = now;
  });
  const onKey = (ev) => {
    if (!screen.isConnected) return document.removeEventListener("keydown", onKey);
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "a" && !screen.hidden) {
      ev.preventDefault();
      phone().answer();
    }
  };
  document.addEventListener("keydown", onKey);
  return screen;
}
