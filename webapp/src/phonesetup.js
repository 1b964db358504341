// Settings: set up a desk phone or a mobile softphone with one of my own devices (GET
// /users/me/devices: never another user's). Each shows its SIP username, the registrar (host, port,
// transport; TLS) and a QR code of the account (the API's setup_uri, drawn by the `qrcode` package,
// bundled). The password is not shown: the service keeps only its digest, so it has none to show.
// "New password" (POST /users/me/devices/{id}/password) makes one, shown once here and in the QR
// code; the phone then has to be set up again.
import QRCode from "qrcode";
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

function qr(text, label) {
  const canvas = el("canvas", { class: "qr-code", role: "img", "aria-label": label });
  const figure = el("figure", { class: "qr", "data-testid": "qr", "data-text": text }, canvas, el("figcaption", { class: "hint" }, t("setupQrHint")));
  QRCode.toCanvas(canvas, text, { margin: 2, width: 176, errorCorrectionLevel: "M" }).catch(() => {
    figure.dataset.failed = "true";
  });
  return figure;
}

function facts(rows) {
  const dl = el("dl", { class: "setup-facts" });
  for (const [key, value, id] of rows) dl.append(el("dt", {}, key), el("dd", { "data-testid": id }, value));
  return dl;
}

function device(d) {
  const name = d.device.label || t(`setupKind_${d.device.kind}`);
  const status = el("p", { class: "error", role: "alert", "data-testid": `setup-status-${d.device.id}` });
  const secret = el("div", { class: "setup-secret", "data-testid": `setup-password-${d.device.id}` });
  const code = el("div", {}, qr(d.setup_uri, `${t("setupQrOf")} ${d.username}`));
  const renew = el("button", { type: "button", class: "quick", "data-testid": `setup-renew-${d.device.id}` }, t("setupNewPassword"));
  renew.setAttribute("aria-label", `${t("setupNewPassword")}: ${name}`);
  // Two steps, the second says what happens (the phone stops working until set up again).
  const sure = el("button", { type: "button", class: "quick danger", "data-testid": `setup-renew-yes-${d.device.id}` }, t("setupNewPasswordYes"));
  const confirm = el("div", { class: "quick-list", hidden: "" }, el("span", { class: "hint" }, t("setupNewPasswordWarn")), sure);
  renew.addEventListener("click", () => {
    confirm.hidden = false;
    sure.focus();
  });
  sure.addEventListener("click", async () => {
    status.textContent = "";
    sure.disabled = true;
    try {
      const made = await api("POST", `/users/me/devices/${d.device.id}/password`);
      secret.replaceChildren(el("p", {}, `${t("password")}: `, el("code", { "data-testid": "setup-password" }, made.password)), el("p", { class: "hint" }, t("setupPasswordOnce")));
      code.replaceChildren(qr(made.setup_uri, `${t("setupQrOf")} ${made.username}`));
      confirm.hidden = true;
    } catch (e) {
      status.textContent = e.message || t("failed");
    } finally {
      sure.disabled = false;
    }
  });
  return el(
    "li",
    { class: "setup-device", "data-testid": `setup-${d.device.id}` },
    el("h3", {}, d.device.label ? `${d.device.label} · ${t(`setupKind_${d.device.kind}`)}` : name),
    facts([
      [t("setupUsername"), d.username, "setup-username"],
      [t("setupHost"), d.domain, "setup-host"],
      [t("setupPort"), String(d.port), "setup-port"],
      [t("setupTransport"), d.transport.toUpperCase(), "setup-transport"],
      [t("setupTls"), `${d.tls_registrar}`, "setup-tls"],
      [t("setupRealm"), d.realm, "setup-realm"],
    ]),
    code,
    el("p", { class: "hint" }, t("setupPasswordWhy")),
    el("div", { class: "quick-list" }, renew),
    confirm,
    secret,
    status,
  );
}

export function phoneSetupSection() {
  const list = el("ul", { class: "setup-list", "data-testid": "setup-devices" });
  const empty = el("p", { class: "hint", hidden: "" }, t("setupNone"));
  api("GET", "/users/me/devices")
    .then((devices) => {
      list.replaceChildren(...devices.map(device));
      empty.hidden = devices.length > 0;
    })
    .catch(() => {
      empty.hidden = false;
    });
  return el("section", { class: "phone-setup", "data-testid": "phone-setup" }, el("h2", {}, t("setupTitle")), list, empty);
}
