// The personal menu, the rest: my own activities (GET/POST /users/me/activities, PATCH/DELETE
// /users/me/activities/{id}, set with PUT /users/me/activity) and the custom settings ("Anpassade
// inställningar", GET/PUT /users/me/settings): close the phone (for a holiday), a temporary outgoing
// number, forwards, an activity until further notice. The API's 400 messages are shown as they come.
import { api } from "./api.js";
import { el } from "./dom.js";
import { language, t } from "./i18n.js";
import { activityText } from "./presence.js";
import { whenever } from "./live.js";

const DESTINATIONS = ["voicemail", "forward", "operator", "ring"];
let uid = 0;

// A labelled field: the label wraps the control (the app's pattern), with an id for tests.
function field(text, control) {
  return el("label", {}, text, control);
}

function problem(e) {
  return e && e.message ? e.message : t("failed");
}

// "2026-12-24T08:00" (the datetime-local value, local time) to ISO with an offset, and back.
function toIso(local) {
  return local ? new Date(local).toISOString() : null;
}

function toLocal(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function whenText(iso) {
  return new Date(iso).toLocaleString(language() === "sv" ? "sv-SE" : "en-GB", { dateStyle: "short", timeStyle: "short" });
}

// --- my own activities --------------------------------------------------------------------------

function activityForm(onSaved, status) {
  const id = `act${++uid}`;
  const label = el("input", { name: "activity-label", maxlength: "60", required: "", "data-testid": "own-label" });
  const spoken = el("input", { name: "activity-spoken", maxlength: "200", required: "", "data-testid": "own-spoken" });
  const minutes = el("input", { name: "activity-minutes", type: "number", min: "1", max: "43200", inputmode: "numeric", "data-testid": "own-minutes" });
  const destination = el("select", { name: "activity-destination", "data-testid": "own-destination" });
  for (const d of DESTINATIONS) destination.append(el("option", { value: d }, t(`selfDest_${d}`)));
  const forwardTo = el("input", { name: "activity-forward", inputmode: "tel", "data-testid": "own-forward" });
  const forwardRow = field(t("selfForwardTo"), forwardTo);
  const save = el("button", { type: "submit", "data-testid": "own-save" }, t("selfSave"));
  const cancel = el("button", { type: "button", class: "quick", hidden: "" }, t("cancel"));
  const heading = el("h3", { id }, t("selfNewActivity"));
  const form = el(
    "form",
    { class: "self-form", "aria-labelledby": id, "data-testid": "own-form" },
    heading,
    field(t("selfLabel"), label),
    field(t("selfSpoken"), spoken),
    field(t("selfMinutes"), minutes),
    field(t("selfDestination"), destination),
    forwardRow,
    el("div", { class: "quick-list" }, save, cancel),
  );
  let editing = null;
  const showForward = () => {
    forwardRow.hidden = destination.value !== "forward";
  };
  destination.addEventListener("change", showForward);
  const reset = () => {
    editing = null;
    form.reset();
    heading.textContent = t("selfNewActivity");
    cancel.hidden = true;
    showForward();
  };
  cancel.addEventListener("click", reset);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    const body = {
      label: label.value.trim(),
      spoken_text: spoken.value.trim(),
      default_minutes: minutes.value ? Number(minutes.value) : null,
      destination: destination.value,
      forward_to: destination.value === "forward" ? forwardTo.value.trim() || null : null,
    };
    try {
      if (editing) await api("PATCH", `/users/me/activities/${editing}`, body);
      else await api("POST", "/users/me/activities", body);
      status.textContent = t("selfSaved");
      reset();
      await onSaved();
    } catch (e) {
      status.textContent = problem(e);
    }
  });
  showForward();
  form.edit = (a) => {
    editing = a.id;
    label.value = a.label;
    spoken.value = a.spoken_text;
    minutes.value = a.default_minutes ?? "";
    destination.value = a.destination;
    forwardTo.value = a.forward_to || "";
    heading.textContent = `${t("selfEditActivity")}: ${a.label}`;
    cancel.hidden = false;
    showForward();
    label.focus();
  };
  return form;
}

function ownActivities(current) {
  const status = el("p", { class: "error", role: "alert", "data-testid": "own-status" });
  const list = el("ul", { class: "self-list", "data-testid": "own-activities" });
  const refresh = async () => {
    const { custom } = await api("GET", "/users/me/activities");
    list.replaceChildren(...custom.map(row));
  };
  const form = activityForm(refresh, status);
  const act = async (fn) => {
    status.textContent = "";
    try {
      await fn();
    } catch (e) {
      status.textContent = problem(e);
    }
  };
  function row(a) {
    const minutes = a.default_minutes ? `${a.default_minutes} ${t("minutes")}` : t("selfFurther");
    const set = el("button", { type: "button", class: "quick", "data-testid": `own-set-${a.id}` }, t("selfSet"));
    const edit = el("button", { type: "button", class: "quick", "data-testid": `own-edit-${a.id}` }, t("selfEdit"));
    const del = el("button", { type: "button", class: "quick danger", "data-testid": `own-delete-${a.id}` }, t("selfDelete"));
    for (const b of [set, edit, del]) b.setAttribute("aria-label", `${b.textContent}: ${a.label}`);
    set.addEventListener("click", () =>
      act(async () => current.show(await api("PUT", "/users/me/activity", { activity: "custom", custom_activity_id: a.id }))),
    );
    edit.addEventListener("click", () => form.edit(a));
    del.addEventListener("click", () =>
      act(async () => {
        await api("DELETE", `/users/me/activities/${a.id}`);
        await refresh();
        await current.read();
      }),
    );
    return el(
      "li",
      { class: "self-row", "data-testid": `own-${a.id}` },
      el("span", { class: "who" }, a.label),
      el("span", { class: "what" }, `${a.spoken_text} · ${minutes} · ${t(`selfDest_${a.destination}`)}${a.forward_to ? ` ${a.forward_to}` : ""}`),
      el("span", { class: "quick-list" }, set, edit, del),
    );
  }
  refresh().catch((e) => (status.textContent = problem(e)));
  return el("details", { class: "self-part", "data-testid": "own-part" }, el("summary", {}, el("h3", {}, t("selfOwnActivities"))), list, form, status);
}

// --- custom settings ----------------------------------------------------------------------------

function untilInput(name) {
  return el("input", { name, type: "datetime-local", "data-testid": name });
}

function customSettings(current) {
  const status = el("p", { class: "error", role: "alert", "data-testid": "custom-status" });
  const closed = el("input", { name: "closed", type: "checkbox", "data-testid": "closed" });
  const closedUntil = untilInput("closed-until");
  const forwardAll = el("input", { name: "forward-all", inputmode: "tel", "data-testid": "forward-all" });
  const forwardAllUntil = untilInput("forward-all-until");
  const forwardBusy = el("input", { name: "forward-busy", inputmode: "tel", "data-testid": "forward-busy" });
  const forwardNoAnswer = el("input", { name: "forward-no-answer", inputmode: "tel", "data-testid": "forward-no-answer" });
  const seconds = el("input", { name: "forward-seconds", type: "number", min: "5", max: "120", "data-testid": "forward-seconds" });
  const callerid = el("select", { name: "outgoing-callerid", "data-testid": "outgoing-callerid" });
  for (const v of ["", "main", "own", "hidden"]) callerid.append(el("option", { value: v }, t(`selfCid_${v || "none"}`)));
  const calleridUntil = untilInput("outgoing-callerid-until");
  const anonymous = el("input", { name: "block-anonymous", type: "checkbox", "data-testid": "block-anonymous" });
  const state = el("p", { class: "hint", role: "status", "data-testid": "custom-state" });
  const show = (s) => {
    closed.checked = s.closed;
    closedUntil.value = toLocal(s.closed_until);
    forwardAll.value = s.forward_all || "";
    forwardAllUntil.value = toLocal(s.forward_all_until);
    forwardBusy.value = s.forward_busy || "";
    forwardNoAnswer.value = s.forward_no_answer || "";
    seconds.value = s.forward_no_answer_seconds;
    callerid.value = s.outgoing_callerid || "";
    calleridUntil.value = toLocal(s.outgoing_callerid_until);
    anonymous.checked = s.block_anonymous;
    const on = [];
    if (s.closed) on.push(`${t("selfClosedOn")}${s.closed_until ? ` ${t("until")} ${whenText(s.closed_until)}` : ` ${t("selfFurther")}`}`);
    if (s.forward_all) on.push(`${t("selfForwardedTo")} ${s.forward_all}${s.forward_all_until ? ` ${t("until")} ${whenText(s.forward_all_until)}` : ""}`);
    state.textContent = on.join(" · ");
    state.dataset.closed = String(s.closed);
    state.dataset.forward = s.forward_all || "";
  };
  const form = el(
    "form",
    { class: "self-form", "data-testid": "custom-settings" },
    el("fieldset", {}, el("legend", {}, t("selfClosedPhone")), el("label", { class: "check" }, closed, t("selfClosed")), field(t("selfUntil"), closedUntil)),
    el("fieldset", {}, el("legend", {}, t("selfForwards")), field(t("selfForwardAll"), forwardAll), field(t("selfUntil"), forwardAllUntil), field(t("selfForwardBusy"), forwardBusy), field(t("selfForwardNoAnswer"), forwardNoAnswer), field(t("selfForwardSeconds"), seconds)),
    el("fieldset", {}, el("legend", {}, t("selfOutgoing")), field(t("selfOutgoingNumber"), callerid), field(t("selfUntil"), calleridUntil)),
    el("label", { class: "check" }, anonymous, t("selfBlockAnonymous")),
    el("p", { class: "hint" }, t("selfUntilHint")),
    el("button", { type: "submit", "data-testid": "custom-save" }, t("selfSave")),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    const text = (input) => input.value.trim() || null;
    const body = {
      closed: closed.checked,
      closed_until: closed.checked ? toIso(closedUntil.value) : null,
      forward_all: text(forwardAll),
      forward_all_until: text(forwardAll) ? toIso(forwardAllUntil.value) : null,
      forward_busy: text(forwardBusy),
      forward_no_answer: text(forwardNoAnswer),
      outgoing_callerid: callerid.value || null,
      outgoing_callerid_until: callerid.value ? toIso(calleridUntil.value) : null,
      block_anonymous: anonymous.checked,
    };
    if (seconds.value) body.forward_no_answer_seconds = Number(seconds.value);
    try {
      show(await api("PUT", "/users/me/settings", body));
      status.textContent = "";
      state.textContent = `${t("selfSaved")}. ${state.textContent}`;
    } catch (e) {
      status.textContent = problem(e);
    }
  });
  const read = () => api("GET", "/users/me/settings").then(show).catch((e) => (status.textContent = problem(e)));
  read();
  return el(
    "details",
    { class: "self-part", "data-testid": "custom-part" },
    el("summary", {}, el("h3", {}, t("selfCustom"))),
    state,
    form,
    status,
    furtherNotice(current),
  );
}

// "Din aktivitet ska gälla tillsvidare": any activity (built-in or mine) until further notice.
function furtherNotice(current) {
  const status = el("p", { class: "error", role: "alert", "data-testid": "further-status" });
  const choice = el("select", { name: "further-activity", "data-testid": "further-activity" });
  const go = el("button", { type: "button", class: "quick", "data-testid": "further-set" }, t("selfSetFurther"));
  api("GET", "/users/me/activities")
    .then(({ builtin, custom }) => {
      for (const b of builtin.filter((x) => x.activity !== "available")) {
        choice.append(el("option", { value: b.activity }, language() === "sv" ? b.label_sv : b.label_en));
      }
      for (const c of custom) choice.append(el("option", { value: `custom:${c.id}` }, c.label));
    })
    .catch(() => {});
  go.addEventListener("click", async () => {
    status.textContent = "";
    const [activity, id] = choice.value.split(":");
    const body = { activity, until_further_notice: true };
    if (id) body.custom_activity_id = Number(id);
    try {
      current.show(await api("PUT", "/users/me/activity", body));
    } catch (e) {
      status.textContent = problem(e);
    }
  });
  return el("div", { class: "self-further" }, field(t("selfFurtherActivity"), choice), go, status);
}

export function personalSection() {
  const now = el("p", { role: "status", "data-testid": "self-activity" });
  const current = {
    show: (a) => {
      now.textContent = `${t("selfNow")}: ${activityText(a)}`;
      now.dataset.activity = a.activity;
      now.dataset.custom = a.custom_activity_id ?? "";
    },
    read: () => api("GET", "/users/me/activity").then(current.show).catch(() => {}),
  };
  current.read();
  const section = el(
    "section",
    { class: "personal", "data-testid": "personal" },
    el("h2", {}, t("selfPersonal")),
    now,
    ownActivities(current),
    customSettings(current),
  );
  whenever(["presence"], () => section.isConnected && current.read());
  return section;
}
