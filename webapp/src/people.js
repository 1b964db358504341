// What the people screens (voicemail, Favorites and VIP, the contact card) share, all through the
// public API: who a number is (GET /directory), my VIP and blocked numbers
// (GET/POST/DELETE /users/me/caller-lists, or PUT /contacts/{id}/marks for a contact), favorites
// (PUT/DELETE /users/me/favorites/users|groups/{id}, PUT /contacts/{id}/marks).
import { api } from "./api.js";

export const collator = new Intl.Collator("sv", { sensitivity: "base" });

// The form the API stores numbers in (E.164 or the extension), for comparing: 070-123 45 67 and
// +46701234567 are the same number.
export function sameNumber(number) {
  let n = String(number || "").replace(/[\s\-()]/g, "");
  if (n.startsWith("00")) n = `+${n.slice(2)}`;
  else if (/^0\d{6,}$/.test(n)) n = `+46${n.slice(1)}`;
  return n;
}

// Tell the other screens that a mark or a favorite changed (they read again).
export function marksChanged() {
  window.dispatchEvent(new Event("pbx:marks-changed"));
}

export function onMarksChanged(node, fn) {
  const handler = () => (node.isConnected ? fn() : window.removeEventListener("pbx:marks-changed", handler));
  window.addEventListener("pbx:marks-changed", handler);
}

// The colleague, group or contact that has this number, or null.
export async function lookupNumber(number) {
  const want = sameNumber(number);
  if (!want) return null;
  const items = await api("GET", `/directory?q=${encodeURIComponent(want)}&limit=50`);
  return items.find((i) => i.numbers.some((n) => sameNumber(n.number) === want)) || null;
}

export async function callerLists() {
  return api("GET", "/users/me/caller-lists");
}

// {vip, blocked} of a number in my caller lists.
export function callerState(entries, number) {
  const want = sameNumber(number);
  const mine = entries.filter((e) => sameNumber(e.number) === want);
  return { vip: mine.some((e) => e.kind === "vip"), blocked: mine.some((e) => e.kind === "blocked") };
}

// Make a caller VIP or blocked, or not. A contact's mark covers all its numbers; a colleague or a
// number with no contact goes in the caller list as a number of its own.
export async function setCallerMark(number, kind, on, item = undefined) {
  const who = item === undefined ? await lookupNumber(number) : item;
  if (who && who.kind === "contact") {
    await api("PUT", `/contacts/${who.id}/marks`, { [kind]: on });
    // A number of it may also be in the list on its own (marked before it was saved): off is off.
    const mine = new Set((who.numbers || []).map((n) => sameNumber(n.number)));
    if (!on && mine.size) {
      for (const e of await callerLists()) {
        if (!e.contact_id && e.kind === kind && mine.has(sameNumber(e.number))) await api("DELETE", `/users/me/caller-lists/${e.id}`);
      }
    }
  } else if (on) {
    await api("POST", "/users/me/caller-lists", { number: sameNumber(number), kind });
  } else {
    const want = sameNumber(number);
    for (const e of await callerLists()) {
      if (e.kind !== kind || sameNumber(e.number) !== want) continue;
      if (e.contact_id) await api("PUT", `/contacts/${e.contact_id}/marks`, { [kind]: false });
      else await api("DELETE", `/users/me/caller-lists/${e.id}`);
    }
  }
  marksChanged();
}

export async function setFavorite(item, on) {
  if (item.kind === "contact") await api("PUT", `/contacts/${item.id}/marks`, { favorite: on });
  else await api(on ? "PUT" : "DELETE", `/users/me/favorites/${item.kind === "user" ? "users" : "groups"}/${item.id}`);
  marksChanged();
}

// The extension of a colleague (what their calls show), else their first number.
export function callerNumberOf(item) {
  const ext = item.numbers.find((n) => n.label === "extension");
  return (ext || item.numbers[0] || {}).number || item.extension || "";
}
