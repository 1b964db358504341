// The answer group's gear ("kugghjulet"), for those allowed (operators, admins and the group's group
// admins; a plain user sees no gear): who is logged in, log a colleague in or out (POST
// /groups/{id}/login|logout {user_id}), and the call handling saved with PATCH /groups/{id}: the
// distribution (strategy), where calls go when nobody answers (overflow after max_wait seconds) and
// the external operator (the night destination `answering_service`). The panel stays open across
// the live redraws (groups.changed): its member list follows, the form keeps what is being typed.
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

const STRATEGIES = ["ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random"];
const NO_ANSWER = ["", "user", "voicemail", "group", "external"];
const gears = new Map(); // group id -> its gear, kept while the page is signed in as one user

export function mayManage(g, me) {
  if (me.role === "operator" || me.role === "admin") return true;
  return g.members.some((m) => m.user_id === me.id && m.group_admin);
}

let colleagues = null; // GET /users (the organization's directory), read once when a gear opens
let groupList = [];

function options(select, items, current) {
  select.replaceChildren(...items.map(([value, text]) => el("option", { value: String(value) }, text)));
  if (current !== undefined && current !== null) select.value = String(current);
}

class Gear {
  constructor(g, me) {
    this.id = g.id;
    this.me = me;
    this.group = g;
    this.open = false;
    this.toggle = el(
      "button",
      { type: "button", class: "gear", "aria-expanded": "false", "aria-label": `${t("gearOpen")} ${g.name}`, "data-testid": `gear-${g.id}` },
      "⚙",
    );
    this.toggle.addEventListener("click", () => this.setOpen(!this.open));
    this.members = el("ul", { class: "gear-members", "data-testid": `gear-members-${g.id}` });
    this.status = el("p", { class: "error", role: "alert", "data-testid": `gear-status-${g.id}` });
    this.panel = el("div", { class: "gear-panel", hidden: "", "data-testid": `gear-panel-${g.id}` });
    this.buildForm();
    this.panel.append(el("h3", {}, `${t("gearTitle")} ${g.name}`), el("h4", {}, t("gearWho")), this.members, this.form, this.status);
  }

  buildForm() {
    const id = this.id;
    this.strategy = el("select", { name: "strategy", "data-testid": `gear-strategy-${id}` });
    options(this.strategy, STRATEGIES.map((s) => [s, t(`gearStrategy_${s}`)]));
    this.kind = el("select", { name: "no-answer", "data-testid": `gear-noanswer-${id}` });
    options(this.kind, NO_ANSWER.map((k) => [k, t(`gearNoAnswer_${k || "none"}`)]));
    this.user = el("select", { name: "no-answer-user", "data-testid": `gear-noanswer-user-${id}` });
    this.otherGroup = el("select", { name: "no-answer-group", "data-testid": `gear-noanswer-group-${id}` });
    this.number = el("input", { name: "no-answer-number", inputmode: "tel", "data-testid": `gear-noanswer-number-${id}` });
    this.wait = el("input", { name: "max-wait", type: "number", min: "2", max: "3600", "data-testid": `gear-wait-${id}` });
    this.external = el("input", { name: "external-operator", type: "checkbox", "data-testid": `gear-external-${id}` });
    this.externalNumber = el("input", { name: "external-number", inputmode: "tel", "data-testid": `gear-external-number-${id}` });
    this.userRow = el("label", {}, t("gearColleague"), this.user);
    this.groupRow = el("label", {}, t("gearGroup"), this.otherGroup);
    this.numberRow = el("label", {}, t("gearNumber"), this.number);
    this.kind.addEventListener("change", () => this.showKind());
    const save = el("button", { type: "submit", "data-testid": `gear-save-${id}` }, t("gearSave"));
    this.form = el(
      "form",
      { class: "self-form" },
      el("label", {}, t("gearStrategy"), this.strategy),
      el(
        "fieldset",
        {},
        el("legend", {}, t("gearNoAnswer")),
        el("label", {}, t("gearNoAnswerTo"), this.kind),
        this.userRow,
        this.groupRow,
        this.numberRow,
        el("label", {}, t("gearWait"), this.wait),
      ),
      el(
        "fieldset",
        {},
        el("legend", {}, t("gearExternal")),
        el("label", { class: "check" }, this.external, t("gearExternalOn")),
        el("label", {}, t("gearExternalNumber"), this.externalNumber),
        el("p", { class: "hint" }, t("gearExternalHint")),
      ),
      save,
    );
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.save();
    });
  }

  showKind() {
    const k = this.kind.value;
    this.userRow.hidden = !["user", "voicemail"].includes(k);
    this.groupRow.hidden = k !== "group";
    this.numberRow.hidden = k !== "external";
  }

  async fill() {
    const g = this.group;
    if (!colleagues) colleagues = await api("GET", "/users").catch(() => []);
    options(this.user, colleagues.map((u) => [u.id, `${u.name} ${u.extension ?? ""}`.trim()]));
    options(this.otherGroup, groupList.filter((x) => x.id !== g.id).map((x) => [x.id, `${x.name} ${x.extension}`]));
    this.strategy.value = g.strategy;
    const o = g.overflow;
    this.kind.value = o && o.kind !== "answering_service" ? o.kind : "";
    if (o && o.user_id) this.user.value = String(o.user_id);
    if (o && o.group_id) this.otherGroup.value = String(o.group_id);
    this.number.value = o && o.kind === "external" ? o.number : "";
    this.wait.value = g.max_wait;
    const night = g.night_destination;
    this.external.checked = Boolean(night && night.kind === "answering_service");
    this.externalNumber.value = night && night.kind === "answering_service" ? night.number : "";
    this.showKind();
  }

  async save() {
    this.status.textContent = "";
    const k = this.kind.value;
    let overflow = null;
    if (k === "user" || k === "voicemail") overflow = { kind: k, user_id: Number(this.user.value) };
    else if (k === "group") overflow = { kind: "group", group_id: Number(this.otherGroup.value) };
    else if (k === "external") overflow = { kind: "external", number: this.number.value.trim() };
    const body = { strategy: this.strategy.value, overflow, max_wait: Number(this.wait.value) };
    const night = this.group.night_destination;
    if (this.external.checked) body.night_destination = { kind: "answering_service", number: this.externalNumber.value.trim() };
    else if (night && night.kind === "answering_service") body.night_destination = null;
    try {
      const out = await api("PATCH", `/groups/${this.id}`, body);
      this.update(out);
      await this.fill();
      this.status.textContent = t("gearSaved");
    } catch (e) {
      this.status.textContent = e.message || t("failed");
    }
  }

  async setOpen(on) {
    this.open = on;
    this.toggle.setAttribute("aria-expanded", String(on));
    this.panel.hidden = !on;
    if (on) {
      await this.fill();
      this.strategy.focus();
    }
  }

  update(g) {
    this.group = g;
    this.members.replaceChildren(
      ...g.members.map((m) => {
        const button = el(
          "button",
          { type: "button", class: "quick", "data-testid": `gear-toggle-${g.id}-${m.user_id}` },
          m.logged_in ? t("groupLogOut") : t("groupLogIn"),
        );
        button.setAttribute("aria-label", `${m.logged_in ? t("groupLogOut") : t("groupLogIn")}: ${m.name}`);
        button.addEventListener("click", async () => {
          button.disabled = true;
          this.status.textContent = "";
          try {
            this.update(await api("POST", `/groups/${g.id}/${m.logged_in ? "logout" : "login"}`, { user_id: m.user_id }));
          } catch (e) {
            this.status.textContent = e.message || t("failed");
            button.disabled = false;
          }
        });
        return el(
          "li",
          { class: `gear-member ${m.logged_in ? "in" : "out"}`, "data-testid": `gear-member-${g.id}-${m.user_id}`, "data-logged-in": String(m.logged_in) },
          el("span", { class: `dot ${m.logged_in ? "green" : "grey"}`, "aria-hidden": "true" }),
          el("span", { class: "who" }, m.name, el("small", {}, ` ${m.extension ?? ""}`)),
          el("span", { class: "what" }, m.logged_in ? t("loggedIn") : t("loggedOut"), m.paused ? ` · ${t("gearPaused")}` : ""),
          button,
        );
      }),
    );
  }
}

// The gear button and its panel for one group row, or nothing for those not allowed.
export function gearFor(g, me, allGroups) {
  groupList = allGroups;
  if (!me || !mayManage(g, me)) return [];
  let gear = gears.get(g.id);
  if (!gear || gear.me !== me) {
    gear = new Gear(g, me);
    gears.set(g.id, gear);
  }
  gear.update(g);
  return [gear.toggle, gear.panel];
}
