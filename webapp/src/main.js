import { api, ApiError, signIn, signOut, token } from "./api.js";
import { callsSection } from "./calls.js";
import { dialSection, placeCall } from "./dial.js";
import { callPendingLink, takeLinkFromAddress } from "./links.js";
import { el } from "./dom.js";
import { groupsSection } from "./groups.js";
import { historySection } from "./history.js";
import { passwordLinkScreen } from "./passwordlinks.js";
import { language, t } from "./i18n.js";
import { startLive, stopLive } from "./live.js";
import { operatorView } from "./operator.js";
import { phone, stopPhone } from "./phone.js";
import { incomingScreen, phoneBar } from "./phoneui.js";
import { presenceList } from "./presence.js";
import { applyTextSize, settingsSection } from "./settings.js";
import { statusMenu } from "./status.js";
import { personalSection } from "./personal.js";
import { phoneSetupSection } from "./phonesetup.js";
import { favoritesSection } from "./favorites.js";
import { voicemailSection } from "./voicemail.js";

const root = document.getElementById("app");

function showSignIn() {
  const error = el("p", { class: "error", role: "alert", "data-testid": "signin-error" });
  const user = el("input", { name: "username", autocomplete: "username", required: "" });
  const pass = el("input", { name: "password", type: "password", autocomplete: "current-password", required: "" });
  const form = el(
    "form",
    { class: "signin", "data-testid": "signin" },
    el("h1", {}, t("signInTitle")),
    el("label", {}, t("username"), user),
    el("label", {}, t("password"), pass),
    el("button", { type: "submit" }, t("signIn")),
    error,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      await signIn(user.value.trim(), pass.value);
      await showHome();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? t("wrongCredentials") : t("failed");
    }
  });
  root.replaceChildren(form);
  user.focus();
}

async function showHome() {
  let me;
  try {
    me = await api("GET", "/users/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showSignIn();
    throw e;
  }
  const out = el("button", { type: "button", "data-testid": "signout" }, t("signOut"));
  out.addEventListener("click", async () => {
    stopPhone();
    stopLive();
    await signOut();
    showSignIn();
  });
  phone().listeners.clear(); // the screens below are new: they listen again
  const events = startLive(phone().ensureAccount());
  const banner = el("p", { class: "connection", role: "alert", "data-testid": "connection" });
  events.onState((l) => {
    banner.dataset.state = l.state;
    banner.dataset.resume = l.resume;
    banner.hidden = l.state !== "lost";
    banner.textContent = t("connectionLost");
  });
  const operator = location.hash === "#operator";
  const switcher = el(
    "a",
    { href: operator ? "#" : "#operator", class: "switch", "data-testid": "view-switch" },
    operator ? t("myView") : t("operatorView"),
  );
  const header = el(
    "header",
    {},
    el("div", {}, el("h1", { "data-testid": "me-name" }, me.name), el("p", {}, `${t("extension")} ${me.extension}`)),
    el("nav", { class: "quick-list" }, switcher, out),
  );
  document.body.classList.toggle("wide", operator);
  if (operator) {
    root.replaceChildren(header, banner, phoneBar(), incomingScreen(), operatorView(me));
  } else {
    root.replaceChildren(
      header,
      banner,
      phoneBar(),
      incomingScreen(),
      dialSection(),
      callsSection(me),
      await statusMenu(),
      personalSection(),
      await groupsSection(me),
      presenceList(me.id),
      favoritesSection(me.id),
      historySection(),
      voicemailSection(),
      settingsSection(() => showHome()),
      phoneSetupSection(),
    );
  }
  phone().start().then(() => callPendingLink(phone(), placeCall)).catch(() => {});
}

takeLinkFromAddress();
window.addEventListener("hashchange", () => token() && showHome());
window.addEventListener("pbx:signed-out", () => {
  stopPhone();
  sessionStorage.removeItem("pbx.token");
  showSignIn();
});
document.documentElement.lang = language();
applyTextSize();
window.addEventListener("hashchange", () => passwordLinkScreen(root, showHome, showSignIn));
if (passwordLinkScreen(root, showHome, showSignIn)) {
  // a set-password link or the reset request
} else if (token()) showHome();
else showSignIn();
