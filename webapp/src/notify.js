// The browser's own notifications while the app is open (an incoming call), once the user allowed
// them in Settings. Clicking one brings the app to the front.
import { t } from "./i18n.js";

export function notificationsAllowed() {
  return typeof Notification !== "undefined" && Notification.permission === "granted";
}

export async function askForNotifications() {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.requestPermission();
}

export function notifyIncoming(call) {
  if (!notificationsAllowed()) return null;
  const who = call.name ? `${call.name} (${call.peer})` : call.peer;
  const n = new Notification(t("incomingCall"), { body: who, tag: "pbx-incoming", requireInteraction: true });
  n.addEventListener("click", () => {
    window.focus();
    n.close();
  });
  n.addEventListener("show", () => {
    document.documentElement.dataset.lastNotification = who;
  });
  return n;
}

// A new voicemail (voicemail.message_added on the events socket), as the guide's "Du får notiser".
export function notifyVoicemail(message) {
  if (!notificationsAllowed()) return null;
  const who = message.caller_name ? `${message.caller_name} (${message.caller_number})` : message.caller_number || t("unknownCaller");
  const n = new Notification(t("vmNotification"), { body: who, tag: `pbx-voicemail-${message.id}` });
  n.addEventListener("click", () => {
    window.focus();
    document.querySelector(`[data-testid="vm-${message.id}"]`)?.scrollIntoView();
    n.close();
  });
  n.addEventListener("show", () => {
    document.documentElement.dataset.lastVoicemailNotification = who;
  });
  return n;
}
