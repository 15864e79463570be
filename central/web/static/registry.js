// Registry forms: households and residents (ID number shown masked), visitors with their
// validity window, and outlets (admins). Each form reports the server's answer in place.

import { call } from "./api.js";
import { t } from "./i18n.js";
import { clear } from "./dom.js";

const FORMS = {
  "household-form": addHousehold,
  "resident-form": addResident,
  "visitor-form": addVisitor,
  "outlet-form": addOutlet,
};

/** Fill the forms' choices for `compoundId` (households, hosts) and the communities in `tree`. */
export async function fillRegistry(compoundId, residents, tree) {
  const households = compoundId ? await call(`/api/dashboard/compounds/${compoundId}/households`) : [];
  options("g-household", households.map((h) => [h.id, h.label]));
  options("v-host", residents.filter((r) => !r.moved_out_at).map((r) => [r.id, r.name]));
  options("o-community", tree.nodes.filter((n) => n.level === "community").map((n) => [n.id, n.name]));
}

function options(id, pairs) {
  const select = document.getElementById(id);
  const chosen = select.value;
  clear(select);
  for (const [value, label] of pairs) select.append(new Option(label, value));
  if (chosen) select.value = chosen;
}

/** Wire every registry form; `changed(kind)` runs after a successful write. */
export function wireRegistry(changed) {
  for (const [id, submit] of Object.entries(FORMS)) {
    const form = document.getElementById(id);
    form.onsubmit = async (event) => {
      event.preventDefault();
      const result = form.querySelector(".result");
      try {
        const made = await submit(new FormData(form));
        result.textContent = `${t("saved")}: ${made}`;
        result.className = "result ok";
        form.reset();
        await changed(id);
      } catch (error) {
        result.textContent = `${t("refused")}: ${error.message}`;
        result.className = "result refused";
      }
    };
  }
}

const optional = (value) => (value ? String(value) : null);
const instant = (value) => new Date(String(value)).toISOString();

async function addHousehold(data) {
  const compound_id = document.getElementById("r-compound").value;
  const made = await call("/api/households", { method: "POST", json: { compound_id, label: data.get("label") } });
  return made.label;
}

async function addResident(data) {
  const body = {
    household_id: data.get("household"),
    name: data.get("name"),
    id_number: optional(data.get("id_number")),
    phone: optional(data.get("phone")),
    birth_date: optional(data.get("birth_date")),
  };
  const made = await call("/api/residents", { method: "POST", json: body });
  return `${made.name} ${made.id_number_masked ?? ""}`.trim();
}

async function addVisitor(data) {
  const body = {
    host_resident_id: data.get("host"),
    name: data.get("name"),
    phone: optional(data.get("phone")),
    birth_date: optional(data.get("birth_date")),
    valid_from: instant(data.get("valid_from")),
    valid_until: instant(data.get("valid_until")),
  };
  return (await call("/api/visitors", { method: "POST", json: body })).name;
}

async function addOutlet(data) {
  const body = { name: data.get("name"), community_id: data.get("community") };
  return (await call("/api/outlets", { method: "POST", json: body })).name;
}

/** End a resident's residence or a visitor's visit (their templates are deleted everywhere). */
export async function endPerson(kind, id) {
  if (!window.confirm(t(kind === "resident" ? "confirm_move_out" : "confirm_revoke"))) return false;
  const path = kind === "resident" ? `/api/residents/${id}/move-out` : `/api/visitors/${id}/revoke`;
  await call(path, { method: "POST" });
  return true;
}
