// Two buttons of the ongoing call card: "Flytta hit" (move the call here: POST /calls/move onto
// this page's own web device, which then rings; answer it and the call is here) and "Lägg till
// personer" (turn the call into a conference: POST /conferences {call, participants}; colleagues,
// groups or outside numbers ring, and the card lists who is in it, live on conference.* events).
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { whenever } from "./live.js";
import { phone } from "./phone.js";

const drafts = new Map(); // call id -> what is typed in its "add people" field (kept over redraws)
const rooms = new Map(); // call id -> {id, participants} of the conference it became

// Read the participants of the conferences my calls became; onChange redraws the cards.
export function watchConferences(onChange) {
  const read = async () => {
    for (const [call, room] of rooms) {
      try {
        const view = await api("GET", `/conferences/${room.id}/participants`);
        room.participants = view.participants;
        room.active = view.active;
      } catch {
        rooms.delete(call);
      }
    }
    onChange();
  };
  whenever(["conference"], read, 200);
}

function problem(e) {
  return e && e.message ? e.message : t("failed");
}

// One person in the conference; I am the host (I made it): mute or hang up the others.
function person(room, p, notice) {
  const who = `${p.name || p.number} ${p.name ? p.number : ""}`.trim();
  const controls = [];
  if (!p.host) {
    const mute = el("button", { type: "button", class: "quick", "aria-pressed": String(Boolean(p.muted)), "data-testid": `conference-mute-${p.id}` }, p.muted ? t("unmute") : t("mute"));
    mute.setAttribute("aria-label", `${mute.textContent}: ${who}`);
    const drop = el("button", { type: "button", class: "quick danger", "data-testid": `conference-drop-${p.id}` }, t("hangUp"));
    drop.setAttribute("aria-label", `${t("hangUp")}: ${who}`);
    const act = async (fn) => {
      notice.textContent = "";
      try {
        await fn();
      } catch (e) {
        notice.textContent = problem(e);
      }
    };
    mute.addEventListener("click", () => act(() => api("POST", `/conferences/${room.id}/participants/${p.id}/mute`, { muted: !p.muted })));
    drop.addEventListener("click", () => act(() => api("DELETE", `/conferences/${room.id}/participants/${p.id}`)));
    controls.push(mute, drop);
  }
  return el(
    "li",
    { class: "conference-person", "data-testid": "conference-person", "data-muted": String(Boolean(p.muted)) },
    el("span", { class: "who" }, who),
    el("span", { class: "what" }, p.host ? t("conferenceHost") : "", p.muted ? ` ${t("conferenceMuted")}` : ""),
    ...controls,
  );
}

export function callExtras(c, notice, refresh) {
  const out = [];
  const account = phone().account;
  if (account && account.device_id && c.endpoint && c.endpoint !== account.sip_username) {
    const move = el("button", { type: "button", class: "quick", "data-testid": `move-here-${c.id}` }, t("moveHere"));
    move.addEventListener("click", async () => {
      notice.textContent = "";
      try {
        await api("POST", "/calls/move", { call: c.id, device: account.device_id });
        notice.textContent = t("moveRinging");
      } catch (e) {
        notice.textContent = problem(e);
      }
    });
    out.push(move);
  }
  const open = drafts.has(c.id);
  const add = el("button", { type: "button", class: "quick", "aria-expanded": String(open), "data-testid": `add-people-${c.id}` }, t("addPeople"));
  const input = el("input", { name: "add-people", inputmode: "tel", autocomplete: "off", "data-testid": `add-people-to-${c.id}` });
  input.value = drafts.get(c.id) || "";
  input.addEventListener("input", () => drafts.set(c.id, input.value));
  const ring = el("button", { type: "submit", "data-testid": `add-people-ring-${c.id}` }, t("addPeopleRing"));
  const form = el(
    "form",
    { class: "card-pad add-people", "data-testid": `add-people-form-${c.id}` },
    el("label", {}, t("addPeopleWho"), input),
    ring,
  );
  form.hidden = !open;
  add.addEventListener("click", () => {
    if (drafts.has(c.id)) drafts.delete(c.id);
    else drafts.set(c.id, input.value);
    form.hidden = !drafts.has(c.id);
    add.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) input.focus();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const people = input.value.split(/[,;]/).map((x) => x.trim()).filter(Boolean);
    if (!people.length) return input.focus();
    notice.textContent = "";
    try {
      const room = rooms.get(c.id);
      if (room) {
        for (const to of people) await api("POST", `/conferences/${room.id}/participants`, { to });
        notice.textContent = `${t("addPeopleRinging")} ${people.join(", ")}`;
      } else {
        const made = await api("POST", "/conferences", { call: c.id, participants: people });
        rooms.set(c.id, { id: made.id, participants: [] });
        notice.textContent = `${t("addPeopleRinging")} ${made.ringing.join(", ")}`;
      }
      drafts.delete(c.id);
      await refresh();
    } catch (e) {
      notice.textContent = problem(e);
    }
  });
  out.push(add);
  const extras = [form];
  const room = rooms.get(c.id);
  if (room) {
    extras.push(
      el(
        "ul",
        { class: "card-pad conference-people", "data-testid": `conference-${c.id}`, "data-conference": String(room.id), "aria-label": t("conferenceWho") },
        ...(room.participants || []).map((p) => person(room, p, notice)),
      ),
    );
  }
  return { buttons: out, below: extras };
}
