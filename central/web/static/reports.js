// Reports (日报告、周会办、月研判) per hierarchy node: shown in the page, exported as PDF or XLSX.

import { ApiError, call, token } from "./api.js";
import { renderDailyEntries } from "./charts.js";
import { cell, clear } from "./dom.js";

/** Offer the visible nodes. */
export function setUpReports(tree) {
  const select = document.getElementById("rep-node");
  const chosen = select.value;
  clear(select);
  for (const node of tree.nodes) select.append(new Option(node.name, node.id));
  if (chosen) select.value = chosen;
}

function query(form, format) {
  const data = new FormData(form);
  const params = new URLSearchParams({ period: data.get("period"), format });
  if (data.get("day")) params.set("day", data.get("day"));
  return `/api/dashboard/reports/${encodeURIComponent(data.get("node"))}?${params}`;
}

/** Generate the report and draw its table. */
export async function showReport(form) {
  const report = await call(query(form, "json"));
  document.getElementById("rep-title").textContent = report.title;
  const table = clear(document.getElementById("rep-table"));
  report.rows.forEach((row, index) => {
    const line = document.createElement("tr");
    for (const value of row) {
      const element = cell(value);
      if (index === 0) element.className = "head";
      line.append(element);
    }
    table.append(line);
  });
  await renderDailyEntries("rep-chart", report.daily_entries);
}

/** Download the report as `format` (pdf or xlsx) with the bearer token. */
export async function exportReport(form, format) {
  const reply = await fetch(query(form, format), { headers: { Authorization: `Bearer ${token()}` } });
  if (!reply.ok) throw new ApiError(reply.status, (await reply.json()).detail);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await reply.blob());
  link.download = /filename="([^"]+)"/.exec(reply.headers.get("Content-Disposition"))?.[1] ?? `report.${format}`;
  link.click();
  URL.revokeObjectURL(link.href);
}
