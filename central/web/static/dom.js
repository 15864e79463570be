// Small DOM helpers shared by the views, and the names of the sites in scope.

import { currentLanguage } from "./i18n.js";

const siteNames = new Map();

/** Remember site names (id → name) for display. */
export function rememberSites(sites) {
  for (const site of sites) siteNames.set(site.id, site.name);
}

/** A site's name, or its id when unknown (central's own alarms: "—"). */
export function siteName(id) {
  return id ? siteNames.get(id) ?? id : "—";
}

/** A table cell with `text` (never parsed as HTML). */
export function cell(text, className) {
  const element = document.createElement("td");
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** Empty `element` and return it. */
export function clear(element) {
  element.replaceChildren();
  return element;
}

/** A timestamp in local time, in the page's language. */
export function when(iso) {
  if (!iso) return "—";
  const locale = currentLanguage() === "zh" ? "zh-CN" : "en-GB";
  return new Date(iso).toLocaleString(locale, { hour12: false });
}

/** A fraction as a percentage, or "—". */
export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}
