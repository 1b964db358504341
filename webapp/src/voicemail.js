// Visual voicemail (GET /users/me/voicemail): listen in the page (the message's audio fetched with
// the bearer token into an <audio> element), call back, download, mark played or new again
// (PUT .../messages/{id}), save the caller to my phonebook, VIP, block, copy the number, delete.
// Live: read again on voicemail.* events; a new message raises a browser notification.
import { api, token } from "./api.js";
import { openCard } from "./card.js";
import { placeCall } from "./dial.js";
import { el } from "./dom.js";
import { language, t } from "./i18n.js";
import { live, whenever } from "./live.js";
import { notifyVoicemail } from "./notify.js";
import { callerLists, callerState, lookupNumber, onMarksChanged, setCallerMark } from "./people.js";

async function audioBlob(url) {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token()}` } });
  if (!r.ok) throw new Error(`${r.status}`);
  const name = /filename="?([^";]+)"?/.exec(r.headers.get("Content-Disposition") || "");
  return { blob: await r.blob(), name: name ? name[1] : "voicemail.wav" };
}

function button(text, testid, fn, extra = {}) {
  const b = el("button", { type: "button", class: "quick", "data-testid": testid, ...extra }, text);
  b.addEventListener("click", async () => {
    const focused = document.activeElement === b; // a disabled button loses the focus: give it back
    b.disabled = true;
    try {
      await fn(b);
    } catch {
      /* the list is read again below, or the next event does */
    } finally {
      b.disabled = false;
      if (focused && b.isConnected && (!document.activeElement || document.activeElement === document.body)) b.focus();
    }
  });
  return b;
}

// From the history's voicemail row: the message that call left (same caller, received closest to
// the call's start), played here. False when it is no longer in the box.
export function listenTo(number, startedAt) {
  const start = Date.parse(startedAt);
  const rows = [...document.querySelectorAll(".vm[data-number]")].filter((r) => r.dataset.number === number);
  rows.sort((a, b) => Math.abs(Date.parse(a.dataset.received) - start) - Math.abs(Date.parse(b.dataset.received) - start));
  const listen = rows[0] && rows[0].querySelector('[data-testid^="vm-listen-"]');
  if (!listen) return false;
  listen.scrollIntoView({ block: "center" });
  listen.focus();
  listen.click();
  return true;
}

export function voicemailSection() {
  const list = el("ul", { class: "vm-list", "data-testid": "vm-list" });
  const summary = el("p", { class: "vm-summary", role: "status", "data-testid": "vm-summary" });
  const section = el("section", { class: "voicemail", "data-testid": "voicemail-section" }, el("h2", {}, t("vmTitle")), summary, list);
  const players = new Map(); // message id -> its <audio>, kept across redraws so playing goes on
  let asked = 0;

  function row(m, state, who) {
    const number = m.caller_number || "";
    const name = m.caller_name || (who && who.name) || number || t("unknownCaller");
    const locale = language() === "sv" ? "sv-SE" : "en-GB";
    const when = new Date(m.received_at).toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
    let audio = players.get(m.id);
    if (!audio) {
      audio = el("audio", { controls: "", preload: "none", hidden: "", "data-testid": `vm-audio-${m.id}`, "aria-label": `${t("vmFrom")} ${name}` });
      players.set(m.id, audio);
    }
    const who_ = el(
      "button",
      { type: "button", class: "link", "aria-label": `${t("openCard")} ${name}`, "data-testid": `vm-card-${m.id}` },
      name,
    );
    who_.addEventListener("click", () => openCard(who || { number, name: m.caller_name }).catch(() => {}));
    const actions = [
      button(t("vmListen"), `vm-listen-${m.id}`, async () => {
        if (!audio.src) audio.src = URL.createObjectURL((await audioBlob(m.audio_url)).blob);
        audio.hidden = false;
        await audio.play();
      }),
    ];
    if (number) actions.push(button(t("callBack"), `vm-callback-${m.id}`, () => placeCall(number), { "aria-label": `${t("callBack")} ${name} ${number}` }));
    actions.push(
      button(t("vmDownload"), `vm-download-${m.id}`, async () => {
        const { blob, name: file } = await audioBlob(`${m.audio_url}?download=true`);
        const url = URL.createObjectURL(blob);
        const a = el("a", { href: url, download: file, hidden: "" });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      }),
      button(m.played ? t("vmMarkNew") : t("vmMarkPlayed"), `vm-played-${m.id}`, async () => {
        await api("PUT", `/users/me/voicemail/messages/${m.id}`, { played: !m.played });
        await load();
      }),
    );
    if (number) {
      if (!who) actions.push(button(t("saveToPhonebook"), `vm-save-${m.id}`, () => openCard({ number, name: m.caller_name })));
      for (const [kind, label] of [["vip", t("vip")], ["blocked", t("block")]]) {
        actions.push(
          button(label, `vm-${kind}-${m.id}`, async () => {
            await setCallerMark(number, kind, !state[kind], who);
          }, { class: "toggle", "data-mark": kind, "aria-pressed": String(state[kind]), "aria-label": `${label} ${name} ${number}` }),
        );
      }
      actions.push(button(t("vmCopy"), `vm-copy-${m.id}`, async () => {
        await navigator.clipboard.writeText(number);
        summary.textContent = `${t("vmCopied")}: ${number}`;
      }));
    }
    actions.push(
      button(t("vmDelete"), `vm-delete-${m.id}`, async () => {
        await api("DELETE", `/users/me/voicemail/messages/${m.id}`);
        await load();
      }, { class: "quick danger" }),
    );
    const about = `${t("vmFrom")} ${name} ${when}`; // tells the rows' buttons apart for a screen reader
    for (const b of actions) if (!b.hasAttribute("aria-label")) b.setAttribute("aria-label", `${b.textContent}: ${about}`);
    return el(
      "li",
      { class: `vm ${m.played ? "played" : "new"}`, "data-testid": `vm-${m.id}`, "data-played": String(m.played), "data-number": number, "data-received": m.received_at },
      el(
        "div",
        { class: "vm-head" },
        who_,
        el("small", {}, number && number !== name ? number : ""),
        el("span", { class: "what" }, `${when} · ${m.duration_s} ${t("vmSeconds")}`),
        m.played ? "" : el("span", { class: "badge" }, t("vmNew")),
      ),
      audio,
      el("div", { class: "quick-list" }, ...actions),
    );
  }

  async function load() {
    const mine = ++asked;
    try {
      const [box, entries] = await Promise.all([api("GET", "/users/me/voicemail"), callerLists().catch(() => [])]);
      const numbers = [...new Set(box.messages.map((m) => m.caller_number).filter(Boolean))];
      const found = await Promise.all(numbers.map((n) => lookupNumber(n).catch(() => null)));
      const who = new Map(numbers.map((n, i) => [n, found[i]]));
      if (mine !== asked) return;
      summary.textContent = box.messages.length
        ? `${box.new} ${t("vmCounts")} · ${box.played} ${t("vmPlayedCount")}${box.live ? "" : ` · ${t("vmNotLive")}`}`
        : t("vmEmpty");
      const ids = new Set(box.messages.map((m) => m.id));
      for (const [id, audio] of players) {
        if (ids.has(id)) continue;
        if (audio.src) URL.revokeObjectURL(audio.src);
        players.delete(id);
      }
      list.replaceChildren(...box.messages.map((m) => row(m, callerState(entries, m.caller_number), who.get(m.caller_number))));
    } catch {
      /* signed out or offline: the next event reads again */
    }
  }

  load();
  whenever(["voicemail"], load);
  live().on((event) => {
    if (event.type === "voicemail.message_added" && event.message) notifyVoicemail(event.message);
  });
  onMarksChanged(section, load);
  return section;
}
