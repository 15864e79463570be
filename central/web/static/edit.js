// Editing a resident or a visitor: the form shows their details, and only what the operator
// changed is sent (PATCH). Phone and ID numbers are never shown: blank keeps them.

import { call } from "./api.js";
import { t } from "./i18n.js";

const PATHS = { resident: "/api/residents", visitor: "/api/visitors" };
const WINDOW = ["valid_from", "valid_until"];
let editing = null;

const form = () => document.getElementById("edit-form");

/** A datetime-local value (local time, minutes) for an ISO instant. */
function localInput(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `${day}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function fill(kind, person) {
  editing = { kind, person };
  const element = form();
  element.reset();
  for (const label of element.querySelectorAll("[data-kinds]")) {
    label.hidden = !label.dataset.kinds.split(" ").includes(kind);
  }
  document.getElementById("edit-title").textContent = `${t(`edit_${kind}`)}: ${person.name}`;
  const fields = element.elements;
  fields.name.value = person.name;
  fields.phone.placeholder = person.phone_masked ?? t("blank_keeps");
  if (kind === "resident") {
    const households = document.getElementById("g-household").options;
    fields.household.replaceChildren(...[...households].map((o) => new Option(o.text, o.value)));
    fields.household.value = person.household_id;
    fields.id_number.placeholder = person.id_number_masked ?? t("blank_keeps");
  } else {
    for (const key of WINDOW) fields[key].value = localInput(person[key]);
  }
}

/** Open the edit form for a resident or visitor, filled with their current details. */
export async function openEdit(kind, id) {
  fill(kind, await call(`${PATHS[kind]}/${id}`));
  const element = form();
  element.querySelector(".result").textContent = "";
  element.hidden = false;
  element.elements.name.focus();
}

function changes(data) {
  const { kind, person } = editing;
  const body = {};
  if (data.get("name") !== person.name) body.name = data.get("name");
  if (data.get("phone")) body.phone = data.get("phone");
  if (kind === "resident") {
    if (data.get("household") !== person.household_id) body.household_id = data.get("household");
    if (data.get("id_number")) body.id_number = data.get("id_number");
  } else {
    for (const key of WINDOW) {
      if (data.get(key) !== localInput(person[key])) body[key] = new Date(data.get(key)).toISOString();
    }
  }
  return body;
}

/** Wire the edit form; `changed()` runs after a successful save. */
export function wireEdit(changed) {
  const element = form();
  document.getElementById("edit-cancel").onclick = () => {
    element.hidden = true;
    editing = null;
  };
  element.onsubmit = async (event) => {
    event.preventDefault();
    const result = element.querySelector(".result");
    try {
      const { kind, person } = editing;
      const body = changes(new FormData(element));
      const saved = await call(`${PATHS[kind]}/${person.id}`, { method: "PATCH", json: body });
      fill(kind, saved);
      result.textContent = `${t("saved")}: ${saved.name}`;
      result.className = "result ok";
      await changed();
    } catch (error) {
      result.textContent = `${t("refused")}: ${error.message}`;
      result.className = "result refused";
    }
  };
}
