// Charts with plotly.js served from the installed plotly wheel (loaded on first use).

import { call } from "./api.js";
import { t } from "./i18n.js";
import { siteName } from "./dom.js";
import { inFocus } from "./focus.js";

let loading = null;

function loadPlotly() {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/dashboard/vendor/plotly.min.js";
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => reject(new Error(t("charts_missing")));
    document.head.append(script);
  });
  return loading;
}

const LAYOUT = {
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  font: { color: "#d7e2f0" },
  margin: { t: 40, r: 10, b: 40, l: 50 },
  legend: { orientation: "h" },
  xaxis: { gridcolor: "#24395a" },
  yaxis: { gridcolor: "#24395a" },
};
const CONFIG = { responsive: true, displaylogo: false };

function draw(Plotly, id, traces, title, extra = {}) {
  // Plotly writes into the layout it is given: each chart gets its own copy.
  const base = structuredClone(LAYOUT);
  const layout = { ...base, ...extra, title: { text: t(title) } };
  layout.xaxis = { ...base.xaxis, ...(extra.xaxis ?? {}) };
  layout.yaxis = { ...base.yaxis, ...(extra.yaxis ?? {}) };
  Plotly.react(id, traces, layout, CONFIG);
}

const COMPLIANCE_DAYS = 7;
const RATES = { real_name_pct: "rate_real_name", inspection_pct: "rate_opened", xray_pct: "rate_xray" };
const DASHES = ["solid", "dot", "dash"];

/** Per outlet in focus, one line per rate over the last days (percent). */
async function complianceTraces() {
  const outlets = await call(`/api/dashboard/compliance?days=${COMPLIANCE_DAYS}`);
  return outlets
    .filter((outlet) => inFocus(outlet.outlet_id))
    .flatMap((outlet) =>
      Object.entries(RATES).map(([key, label], index) => ({
        type: "scatter",
        mode: "lines+markers",
        name: `${outlet.name} · ${t(label)}`,
        line: { dash: DASHES[index] },
        x: outlet.days.map((day) => day.day),
        y: outlet.days.map((day) => day[key]),
      })),
    );
}

/** Draw the three charts (only the sites in focus). */
export async function renderCharts(tree) {
  const status = document.getElementById("chart-status");
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch (error) {
    status.textContent = error.message;
    return;
  }
  status.textContent = "";
  const hourly = await call("/api/dashboard/hourly");
  const hours = [...Array(24).keys()];
  const entries = Object.entries(hourly).filter(([site]) => inFocus(site)).map(([site, counts]) => ({
    type: "bar", name: siteName(site), x: hours, y: counts,
  }));
  draw(Plotly, "chart-hourly", entries, "entries_per_hour", {
    barmode: "stack", xaxis: { range: [-0.5, 23.5], dtick: 2 },
  });
  const compounds = tree.sites.filter((site) => site.kind === "compound" && inFocus(site.id));
  const rate = (site, key) => {
    const c = site.counts;
    const total = (c.entries ?? 0) + (c.denied ?? 0) + (c.unknown ?? 0);
    return total ? (c[key] ?? 0) / total : 0;
  };
  const names = compounds.map((site) => site.name);
  const rateTraces = ["denied", "unknown"].map((key) => ({
    type: "bar", name: t(`rate_${key}`), x: names, y: compounds.map((s) => rate(s, key)),
  }));
  draw(Plotly, "chart-rates", rateTraces, "denied_unknown_rates", { yaxis: { tickformat: ".0%" } });
  draw(Plotly, "chart-compliance", await complianceTraces(), "compliance", {
    margin: { ...LAYOUT.margin, r: 40 }, xaxis: { type: "category" }, yaxis: { ticksuffix: "%", range: [0, 105] },
  });
}

/** A report's entries per day as a bar chart in `id` (nothing when plotly is missing). */
export async function renderDailyEntries(id, dailyEntries) {
  let Plotly;
  try {
    Plotly = await loadPlotly();
  } catch {
    return;
  }
  const trace = { type: "bar", x: Object.keys(dailyEntries), y: Object.values(dailyEntries) };
  draw(Plotly, id, [trace], "daily_entries", { xaxis: { type: "category" } });
}
