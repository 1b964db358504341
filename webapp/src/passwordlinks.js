// The screens a set-password link opens (#set-password=<token>, from the welcome or reset mail) and
// the reset request (#reset-password). Own texts: the main screens' i18n stays untouched.
import { api, ApiError, signIn } from "./api.js";
import { el } from "./dom.js";
import { language } from "./i18n.js";

const TEXTS = {
  sv: {
    setTitle: "Välj ditt lösenord",
    newPassword: "Nytt lösenord (minst 8 tecken)",
    repeat: "Upprepa lösenordet",
    save: "Spara och logga in",
    mismatch: "Lösenorden är inte lika",
    link_used: "Länken är redan använd.",
    link_expired: "Länken har gått ut.",
    link_invalid: "Länken fungerar inte.",
    askNew: "Be om en ny länk",
    resetTitle: "Glömt lösenordet?",
    login: "Användarnamn eller e-postadress",
    send: "Skicka länk",
    sent: "Om användarnamnet eller adressen finns får du strax ett mejl med en länk.",
    tooMany: "För många försök, vänta en stund.",
    failed: "Något gick fel, försök igen",
    back: "Till inloggningen",
  },
  en: {
    setTitle: "Choose your password",
    newPassword: "New password (at least 8 characters)",
    repeat: "Repeat the password",
    save: "Save and sign in",
    mismatch: "The passwords differ",
    link_used: "This link has already been used.",
    link_expired: "This link has expired.",
    link_invalid: "This link does not work.",
    askNew: "Ask for a new link",
    resetTitle: "Forgot your password?",
    login: "Username or mail address",
    send: "Send link",
    sent: "If the username or address is known, a mail with a link is on its way.",
    tooMany: "Too many requests, wait a while.",
    failed: "Something went wrong, try again",
    back: "Back to sign in",
  },
};

function t(key) {
  return TEXTS[language()][key];
}

function leave(onDone) {
  history.replaceState(null, "", location.pathname);
  onDone();
}

function setPassword(root, token, onSignedIn) {
  const error = el("p", { class: "error", role: "alert", "data-testid": "set-password-error" });
  const pass = el("input", { name: "new-password", type: "password", autocomplete: "new-password", required: "" });
  const again = el("input", { name: "repeat-password", type: "password", autocomplete: "new-password", required: "" });
  const form = el(
    "form",
    { class: "signin", "data-testid": "set-password" },
    el("h1", {}, t("setTitle")),
    el("label", {}, t("newPassword"), pass),
    el("label", {}, t("repeat"), again),
    el("button", { type: "submit" }, t("save")),
    error,
    el("a", { href: "#reset-password" }, t("askNew")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (pass.value !== again.value) {
      error.textContent = t("mismatch");
      return;
    }
    let done;
    try {
      done = await api("POST", "/auth/set-password", { token, password: pass.value });
    } catch (e) {
      error.textContent = e instanceof ApiError ? TEXTS[language()][e.code] || e.message : t("failed");
      return;
    }
    await signIn(done.username, pass.value);
    leave(onSignedIn);
  });
  root.replaceChildren(form);
  pass.focus();
}

function askReset(root, onBack) {
  const note = el("p", { role: "status", "data-testid": "reset-note" });
  const login = el("input", { name: "login", autocomplete: "username", required: "" });
  const back = el("a", { href: "#" }, t("back"));
  back.addEventListener("click", (ev) => {
    ev.preventDefault();
    leave(onBack);
  });
  const form = el(
    "form",
    { class: "signin", "data-testid": "reset-password" },
    el("h1", {}, t("resetTitle")),
    el("label", {}, t("login"), login),
    el("button", { type: "submit" }, t("send")),
    note,
    back,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/auth/password-reset", { login: login.value.trim() });
      note.textContent = t("sent");
    } catch (e) {
      note.textContent = e instanceof ApiError && e.status === 429 ? t("tooMany") : t("failed");
    }
  });
  root.replaceChildren(form);
  login.focus();
}

// Shows the screen the address asks for and returns true, or returns false (not a link's address).
export function passwordLinkScreen(root, onSignedIn, onBack) {
  const hash = location.hash;
  if (hash.startsWith("#set-password=")) setPassword(root, hash.slice("#set-password=".length), onSignedIn);
  else if (hash === "#reset-password") askReset(root, onBack);
  else return false;
  return true;
}
