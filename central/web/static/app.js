// The page: sign-in, tabs, the live stream, and refreshing the views.

import { call, forget, keepRenewing, login, stream, token } from "./api.js";
import { setLanguage, t, translate } from "./i18n.js";
import { fillFilters, forgetAlarms, loadAlarms, onAlarm, renderAlarms } from "./alarms.js";
import { rememberSites } from "./dom.js";
import { loadDevices, renderTree, searchEvents } from "./views.js";
import { reloadPeople, setUpResidents, submitEnrolment } from "./residents.js";
import { wireRegistry } from "./registry.js";
import { wireEdit } from "./edit.js";
import { applyRole } from "./roles.js";
import { clearFocus, focusOn } from "./focus.js";
import { renderCharts } from "./charts.js";
import { provisionDevice, setUpProvisioning } from "./provision.js";
import { exportReport, setUpReports, showReport } from "./reports.js";

const TREE_REFRESH_MS = 30000;
let source = null;
let tree = { nodes: [], sites: [] };
let timer = null;
let role = "";
let shown = "overview";

const $ = (id) => document.getElementById(id);

async function refreshTree() {
  tree = await call("/api/dashboard/tree");
  rememberSites(tree.sites);
  fillFilters(tree.sites);
  renderTree(tree);
}

const TABS = {
  overview: async () => {},
  events: async () => {},
  devices: () => Promise.all([loadDevices(), setUpProvisioning(tree, role)]),
  residents: () => setUpResidents(tree),
  charts: () => renderCharts(tree),
  reports: async () => setUpReports(tree),
};

function showTab(name) {
  shown = name;
  for (const button of document.querySelectorAll("nav button[data-tab]")) {
    button.classList.toggle("active", button.dataset.tab === name);
  }
  for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== `tab-${name}`;
  TABS[name]().catch((error) => console.error(error));
}

function setLive(up) {
  const badge = $("live");
  badge.dataset.i18n = up ? "live" : "offline";
  badge.className = up ? "live" : "down";
  badge.textContent = t(badge.dataset.i18n);
}

function openStream() {
  source = stream((kind, data) => {
    if (kind !== "alarm") return;
    onAlarm(data);
    refreshTree().catch(() => {});
  }, setLive);
}

/** After a token renewal: a stream the server closed reconnects with the new token. */
function onRenewed() {
  if (source && source.readyState === EventSource.CLOSED) openStream();
}

/** The focus changed: redraw the alarms and the tree, and reload the tab on show. */
function onFocus() {
  renderAlarms();
  renderTree(tree);
  if (shown === "charts") renderCharts(tree).catch((error) => console.error(error));
  if (shown === "events") searchEvents($("event-form")).catch((error) => window.alert(error.message));
}

async function registryChanged(formId) {
  if (formId === "outlet-form") await refreshTree();
  await reloadPeople();
}

async function start() {
  const me = await call("/api/auth/me");
  role = me.role;
  applyRole(role);
  $("who").textContent = `${me.username} · ${me.role}`;
  $("login").hidden = true;
  $("main").hidden = false;
  await refreshTree();
  // Listen first, then load: an alarm raised in between is not missed.
  openStream();
  await loadAlarms();
  timer = setInterval(() => refreshTree().catch(() => {}), TREE_REFRESH_MS);
  showTab("overview");
}

function stop() {
  source?.close();
  clearFocus();
  forgetAlarms();
  clearInterval(timer);
  $("main").hidden = true;
  $("login").hidden = false;
}

function wire() {
  $("login-form").onsubmit = async (submit) => {
    submit.preventDefault();
    $("login-error").textContent = "";
    try {
      await login($("username").value, $("password").value);
      await start();
    } catch {
      $("login-error").textContent = t("login_failed");
    }
  };
  $("logout").onclick = () => {
    forget();
    stop();
  };
  for (const button of document.querySelectorAll("nav button[data-tab]")) button.onclick = () => showTab(button.dataset.tab);
  for (const select of document.querySelectorAll("#alarm-filters select")) select.onchange = renderAlarms;
  $("event-form").onsubmit = (submit) => {
    submit.preventDefault();
    searchEvents(submit.target).catch((error) => window.alert(error.message));
  };
  $("enrol-form").onsubmit = (submit) => {
    submit.preventDefault();
    submitEnrolment(submit.target);
  };
  $("provision-form").onsubmit = (submit) => {
    submit.preventDefault();
    provisionDevice(submit.target)
      .then(loadDevices)
      .catch((error) => window.alert(error.message));
  };
  $("report-form").onsubmit = (submit) => {
    submit.preventDefault();
    showReport(submit.target).catch((error) => window.alert(error.message));
  };
  for (const format of ["pdf", "xlsx"]) {
    $(`rep-${format}`).onclick = () => exportReport($("report-form"), format).catch((error) => window.alert(error.message));
  }
  $("lang").onchange = (change) => {
    setLanguage(change.target.value);
    renderAlarms();
    renderTree(tree);
  };
  $("focus-clear").onclick = () => focusOn(null, tree);
  wireRegistry(registryChanged);
  wireEdit(reloadPeople);
  window.addEventListener("anju:signed-out", stop);
  window.addEventListener("anju:renewed", onRenewed);
  window.addEventListener("anju:focus", onFocus);
}

wire();
$("lang").value = localStorage.getItem("anju.lang") === "en" ? "en" : "zh";
translate();
if (token()) {
  keepRenewing();
  start().catch(stop);
}
