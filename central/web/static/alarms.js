// The live alarm list: loaded once, then kept current from the stream; filters and actions.

import { call } from "./api.js";
import { t } from "./i18n.js";
import { cell, clear, siteName, when } from "./dom.js";
import { inFocus } from "./focus.js";
import { allowed } from "./roles.js";

const alarms = new Map();
const ACTIONS = {
  acknowledge: { path: "acknowledge", states: ["active"] },
  assign: { path: "assign", prompt: "prompt_assignee", field: "assignee", states: ["active", "acknowledged"] },
  comment: { path: "comments", prompt: "prompt_comment", field: "text", states: ["active", "acknowledged", "cleared"] },
  clear: { path: "clear", prompt: "prompt_reason", field: "reason", states: ["active", "acknowledged"] },
};

/** Load the newest alarms in scope, keeping any newer state the stream already brought. */
export async function loadAlarms() {
  for (const alarm of await call("/api/alarms?limit=500")) {
    const held = alarms.get(alarm.id);
    if (!held || held.last_seen <= alarm.last_seen) alarms.set(alarm.id, { ...held, ...alarm });
  }
  renderAlarms();
}

/** Forget every alarm (signing out). */
export function forgetAlarms() {
  alarms.clear();
  renderAlarms();
}

/** Merge an alarm from the stream (new or changed) and redraw. */
export function onAlarm(item) {
  alarms.set(item.id, { ...(alarms.get(item.id) ?? { comments: [], assignee: null }), ...item });
  renderAlarms();
}

function filters() {
  const value = (id) => document.getElementById(id).value;
  return { level: value("f-level"), type: value("f-type"), site_id: value("f-place"), state: value("f-state") };
}

function matches(alarm, wanted) {
  return Object.entries(wanted).every(([key, value]) => !value || alarm[key] === value);
}

/** Fill the place and type filters from what is known. */
export function fillFilters(sites) {
  const place = document.getElementById("f-place");
  const chosen = place.value;
  clear(place).append(new Option(t("all"), ""));
  for (const site of sites) place.append(new Option(site.name, site.id));
  place.value = chosen;
}

/** Redraw the table from the alarms held and the filters chosen. */
export function renderAlarms() {
  const body = clear(document.getElementById("alarm-rows"));
  const wanted = filters();
  const shown = [...alarms.values()]
    .filter((alarm) => matches(alarm, wanted) && inFocus(alarm.site_id))
    .sort((a, b) => (a.last_seen < b.last_seen ? 1 : -1));
  for (const alarm of shown) body.append(alarmRow(alarm));
  document.getElementById("alarm-total").textContent = String(shown.length);
}

// Parameters worded by their own string (`${name}_${value}`) and parameters that are times.
const WORDED = new Set(["method", "reason", "online"]);
const TIMES = new Set(["edge", "valid_until"]);

/** `template` with each {name} replaced by the parameter, worded in the page's language. */
function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    if (WORDED.has(name)) return fill(t(`${name}_${value}`), params);
    return TIMES.has(name) ? when(value) : String(value);
  });
}

/** The alarm's detail in the page's language from its type and parameters; alarms without
 * parameters (older ones, or types the dashboard cannot word) show the server's text. */
function describe(alarm) {
  const key = `detail_${alarm.type}`;
  const template = t(key);
  if (!alarm.params || !Object.keys(alarm.params).length || template === key) {
    return alarm.detail || alarm.subject || "";
  }
  return fill(template, alarm.params);
}

function alarmRow(alarm) {
  const row = document.createElement("tr");
  row.dataset.alarmId = alarm.id;
  row.className = `level-${alarm.level} state-${alarm.state}`;
  row.append(
    cell(when(alarm.last_seen)),
    cell(t(`level_${alarm.level}`), "badge"),
    cell(t(`type_${alarm.type}`)),
    cell(siteName(alarm.site_id)),
    cell(describe(alarm)),
    cell(String(alarm.count)),
    cell(t(`state_${alarm.state}`), "state"),
    cell(alarm.assignee ?? ""),
  );
  const actions = cell("");
  for (const [name, action] of Object.entries(ACTIONS)) {
    if (!action.states.includes(alarm.state) || !allowed("writer")) continue;
    const button = document.createElement("button");
    button.textContent = t(name);
    button.dataset.action = name;
    button.onclick = () => act(alarm.id, action);
    actions.append(button);
  }
  row.append(actions);
  return row;
}

async function act(id, action) {
  let json = action.path === "acknowledge" ? undefined : {};
  if (action.prompt) {
    const answer = window.prompt(t(action.prompt));
    if (answer === null) return;
    json = { [action.field]: action.field === "assignee" ? answer || null : answer };
  }
  try {
    const updated = await call(`/api/alarms/${id}/${action.path}`, { method: "POST", json });
    alarms.set(id, updated);
    renderAlarms();
  } catch (error) {
    window.alert(error.message);
  }
}
