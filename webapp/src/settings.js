// Settings kept in this browser: language (sv/en) and text size.
import { el } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";

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
  );
}
