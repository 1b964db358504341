// Settings kept in this browser: language (sv/en), text size, the softphone's microphone and speaker
// with a sound test (the echo test number from the web device's account: you hear yourself), and
// the browser notifications for incoming calls.
import { el } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { registerHandlers } from "./links.js";
import { askForNotifications, notificationsAllowed } from "./notify.js";
import { phone } from "./phone.js";

const SIZES = { small: "100%", large: "118%", larger: "135%" };

export function applyTextSize() {
  document.documentElement.style.fontSize = SIZES[localStorage.getItem("pbx.textsize")] || SIZES.small;
}

export function settingsSection(redraw) {
  const lang = el("select", { name: "language", "data-testid": "language" });
  for (const [value, text] of [["sv", "Svenska"], ["en", "English"]]) {
    const o = el("option", { value }, text);
    if (value === language()) o.selected = true;
    lang.append(o);
  }
  lang.addEventListener("change", () => {
    setLanguage(lang.value);
    redraw();
  });
  const size = el("select", { name: "textsize", "data-testid": "textsize" });
  for (const key of Object.keys(SIZES)) {
    const o = el("option", { value: key }, t(key));
    if (key === (localStorage.getItem("pbx.textsize") || "small")) o.selected = true;
    size.append(o);
  }
  size.addEventListener("change", () => {
    localStorage.setItem("pbx.textsize", size.value);
    applyTextSize();
  });
  return el(
    "section",
    { "data-testid": "settings" },
    el("h2", {}, t("settings")),
    el("label", {}, t("languageLabel"), lang),
    el("label", {}, t("textSize"), size),
    audioSettings(),
    notificationSetting(),
    linkSetting(),
  );
}

function deviceSelect(kind, name, current) {
  const select = el("select", { name, "data-testid": name }, el("option", { value: "" }, t("defaultDevice")));
  navigator.mediaDevices
    ?.enumerateDevices()
    .then((devices) => {
      for (const d of devices.filter((x) => x.kind === kind && x.deviceId && x.deviceId !== "default")) {
        const o = el("option", { value: d.deviceId }, d.label || d.deviceId.slice(0, 8));
        if (d.deviceId === current) o.selected = true;
        select.append(o);
      }
    })
    .catch(() => {});
  return select;
}

function audioSettings() {
  const p = phone();
  const input = deviceSelect("audioinput", "audio-input", p.input);
  const output = deviceSelect("audiooutput", "audio-output", p.output);
  input.addEventListener("change", () => p.setDevices({ input: input.value }));
  output.addEventListener("change", () => p.setDevices({ output: output.value }));
  const test = el("button", { type: "button", class: "quick", "data-testid": "echo-test" }, t("echoTest"));
  const number = el("span", { class: "hint" });
  p.onChange((x) => {
    const echo = (x.account && x.account.echo_test) || "*43";
    number.textContent = `${t("echoTestHint")} ${echo}`;
    test.disabled = !x.ready;
  });
  test.addEventListener("click", () => p.dial((p.account && p.account.echo_test) || "*43"));
  return el(
    "div",
    { class: "audio-settings" },
    el("label", {}, t("microphone"), input),
    el("label", {}, t("speaker"), output),
    el("div", { class: "quick-list" }, test, number),
  );
}

function notificationSetting() {
  const button = el("button", { type: "button", class: "quick", "data-testid": "notifications" }, t("allowNotifications"));
  const show = () => {
    button.disabled = notificationsAllowed();
    button.textContent = notificationsAllowed() ? t("notificationsOn") : t("allowNotifications");
  };
  button.addEventListener("click", async () => {
    await askForNotifications();
    show();
  });
  show();
  return el("div", { class: "quick-list" }, button);
}

function linkSetting() {
  const note = el("span", { class: "hint", role: "status", "data-testid": "links-status" });
  const button = el("button", { type: "button", class: "quick", "data-testid": "links" }, t("handleLinks"));
  button.addEventListener("click", () => {
    try {
      note.textContent = registerHandlers() ? t("handleLinksAsked") : t("handleLinksUnsupported");
    } catch {
      note.textContent = t("handleLinksUnsupported");
    }
  });
  return el("div", { class: "quick-list" }, button, note);
}
