// The hierarchy node (or site) chosen in the tree: alarms, events and charts show only its sites.

import { t } from "./i18n.js";

let focused = null;

/** Focus on tree item `id` (a node: every site below it; a site: itself); null clears. */
export function focusOn(id, tree) {
  if (id === null || focused?.id === id) {
    focused = null;
  } else {
    const site = tree.sites.find((s) => s.id === id);
    focused = site ? { id, name: site.name, site: true, sites: new Set([id]) } : nodeFocus(id, tree);
  }
  showBanner();
  window.dispatchEvent(new Event("anju:focus"));
}

function nodeFocus(id, tree) {
  const below = new Set([id]);
  // Nodes come ordered by path, so a parent is always seen before its children.
  for (const node of tree.nodes) if (below.has(node.parent_id)) below.add(node.id);
  const sites = tree.sites.filter((s) => below.has(s.community_id)).map((s) => s.id);
  const name = tree.nodes.find((n) => n.id === id)?.name ?? id;
  return { id, name, site: false, sites: new Set(sites) };
}

/** Drop the focus quietly (signing out: nothing is redrawn). */
export function clearFocus() {
  focused = null;
  showBanner();
}

/** Whether `siteId` is inside the focus (everything is when nothing is focused). */
export function inFocus(siteId) {
  return focused === null || focused.sites.has(siteId);
}

/** The focused item's id, or null. */
export function focusedId() {
  return focused?.id ?? null;
}

/** Query parameters restricting the event search to the focus. */
export function focusQuery() {
  if (focused === null) return {};
  return focused.site ? { site_id: focused.id } : { node_id: focused.id };
}

function showBanner() {
  const banner = document.getElementById("focus");
  banner.hidden = focused === null;
  document.getElementById("focus-name").textContent = focused ? `${t("focus")}: ${focused.name}` : "";
}
