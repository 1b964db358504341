// Answer groups I may answer: my state (green logged in, grey logged out, padlock night mode) and
// a button to log in or out (POST /groups/{id}/login|logout). Read again on every groups.changed
// event (a colleague logs me in or out, night mode switched).
import { api } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./dom.js";
import { whenever } from "./live.js";
import { gearFor, mayManage } from "./groupgear.js";

const STATE_TEXT = { green: "loggedIn", grey: "loggedOut", padlock: "night" };

function row(g, redraw, viewer, all) {
  const me = g.members.find((m) => m.logged_in !== undefined && m.user_id === g.me);
  const loggedIn = me ? me.logged_in : g.state === "green";
  const button = el("button", { type: "button", class: "quick", "data-testid": `group-toggle-${g.id}` }, loggedIn ? t("groupLogOut") : t("groupLogIn"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const out = await api("POST", `/groups/${g.id}/${loggedIn ? "logout" : "login"}`, {});
      redraw({ ...out, me: g.me });
    } finally {
      button.disabled = false;
    }
  });
  const mark = g.state === "padlock" ? el("span", { class: "padlock", "aria-hidden": "true" }, "🔒") : el("span", { class: `dot ${g.state}`, "aria-hidden": "true" });
  return el(
    "li",
    { class: `group ${g.state}`, "data-testid": `group-${g.id}`, "data-state": g.state },
    mark,
    el("span", { class: "who" }, `${g.name}`, el("small", {}, ` ${g.extension}`)),
    el("span", { class: "what" }, t(STATE_TEXT[g.state])),
    g.may_answer ? button : "",
    ...gearFor(g, viewer, all),
  );
}

// me: GET /users/me (its id and role decide the gear); operators, admins and group admins also see
// the groups they manage without answering them (the gear only).
export async function groupsSection(me) {
  const meId = me.id;
  const shown = (g) => g.may_answer || mayManage(g, me);
  const list = el("ul", { class: "group-list", "data-testid": "groups" });
  const section = el("section", {}, el("h2", {}, t("groups")), list);
  let groups = (await api("GET", "/groups")).filter(shown);
  const draw = () => {
    list.replaceChildren(...groups.map((g) => row({ ...g, me: meId }, update, me, groups)));
    section.hidden = !groups.length;
  };
  const update = (g) => {
    const i = groups.findIndex((x) => x.id === g.id);
    groups[i] = g;
    draw();
  };
  draw();
  whenever(["groups"], async () => {
    try {
      groups = (await api("GET", "/groups")).filter(shown);
      draw();
    } catch {
      /* the next event tries again */
    }
  });
  return section;
}
