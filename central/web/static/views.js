// Read-only views: the hierarchy with roll-ups, device health, and event search.

import { call, token } from "./api.js";
import { t } from "./i18n.js";
import { cell, clear, percent, siteName, when } from "./dom.js";
import { focusOn, focusedId, focusQuery } from "./focus.js";

let currentTree = { nodes: [], sites: [] };

/** Draw the hierarchy tree (nodes, then their sites) with today's roll-ups; a click focuses. */
export function renderTree(tree) {
  currentTree = tree;
  const list = clear(document.getElementById("tree"));
  const children = new Map();
  for (const node of tree.nodes) {
    const key = node.parent_id ?? "";
    children.set(key, [...(children.get(key) ?? []), node]);
  }
  const known = new Set(tree.nodes.map((node) => node.id));
  const roots = tree.nodes.filter((node) => !known.has(node.parent_id));
  const sitesOf = (id) => tree.sites.filter((site) => site.community_id === id);
  const draw = (node, depth) => {
    list.append(treeRow(node, depth, `level-${node.level}`));
    for (const site of sitesOf(node.id)) list.append(treeRow(site, depth + 1, `site-${site.kind}`));
    for (const child of children.get(node.id) ?? []) draw(child, depth + 1);
  };
  for (const root of roots) draw(root, 0);
}

function treeRow(item, depth, className) {
  const row = document.createElement("tr");
  row.className = focusedId() === item.id ? `${className} focused` : className;
  row.dataset.nodeId = item.id;
  row.onclick = () => focusOn(item.id, currentTree);
  const name = cell(item.name, "tree-name");
  name.style.paddingLeft = `${0.4 + depth * 1.1}rem`;
  const c = item.counts;
  row.append(
    name,
    cell(`${c.online ?? 0}/${c.devices ?? 0}`),
    cell(String(c.open_alarms ?? 0), c.open_alarms ? "hot" : ""),
    cell(String(c.entries ?? 0)),
    cell(String((c.denied ?? 0) + (c.unknown ?? 0))),
    cell(percent(item.rates.real_name)),
    cell(percent(item.rates.opened)),
    cell(percent(item.rates.xray)),
  );
  return row;
}

/** Load and draw device health. */
export async function loadDevices() {
  const body = clear(document.getElementById("device-rows"));
  for (const device of await call("/api/dashboard/devices")) {
    const cameras = Object.entries(device.camera_state).map(([id, state]) => `${id}: ${state}`);
    const lag =
      device.gallery_latest === null ? "—" : `${device.gallery_applied ?? 0} / ${device.gallery_latest}`;
    const row = document.createElement("tr");
    row.className = device.online ? "online" : "offline";
    row.append(
      cell(device.id),
      cell(device.kind),
      cell(siteName(device.site_id)),
      cell(device.online ? t("yes") : t("no"), "state"),
      cell(when(device.last_heartbeat)),
      cell(cameras.join(", ") || "—"),
      cell(lag),
    );
    body.append(row);
  }
}

/** Run the event search with the form's filters. */
export async function searchEvents(form) {
  const query = new URLSearchParams(focusQuery());
  for (const [key, value] of new FormData(form)) {
    if (!value) continue;
    query.set(key, key === "since" || key === "until" ? new Date(value).toISOString() : value);
  }
  const body = clear(document.getElementById("event-rows"));
  for (const event of await call(`/api/dashboard/events?${query}`)) {
    const row = document.createElement("tr");
    row.append(
      cell(when(event.occurred_at)),
      cell(siteName(event.site_id)),
      cell(event.device_id),
      cell(event.kind),
      cell(event.decision ?? "—"),
      cell(event.method ?? "—"),
      cell(event.gate_id ?? "—"),
      evidenceCell(event),
    );
    body.append(row);
  }
}

function evidenceCell(event) {
  const element = cell("");
  for (const id of event.payload.evidence_ids ?? []) {
    const button = document.createElement("button");
    button.textContent = t("evidence");
    button.dataset.evidenceId = id;
    button.onclick = () => showEvidence(event.device_id, id);
    element.append(button);
  }
  return element;
}

/** Pull one snapshot or clip from the node through central and show it. */
async function showEvidence(deviceId, evidenceId) {
  const panel = clear(document.getElementById("evidence"));
  const path = `/api/dashboard/evidence/${encodeURIComponent(deviceId)}?evidence_id=${encodeURIComponent(evidenceId)}`;
  const reply = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!reply.ok) {
    panel.textContent = `${t("evidence_refused")}: ${(await reply.json()).detail}`;
    panel.className = "refused";
    return;
  }
  const url = URL.createObjectURL(await reply.blob());
  panel.className = "";
  if (reply.headers.get("Content-Type").startsWith("image/")) {
    const image = document.createElement("img");
    image.src = url;
    image.alt = evidenceId;
    panel.append(image);
  } else {
    const link = document.createElement("a");
    link.href = url;
    link.download = `${evidenceId}.avi`;
    link.textContent = t("evidence");
    panel.append(link);
  }
}
