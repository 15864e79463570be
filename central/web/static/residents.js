// Residents and visitors with their consent state, and face enrolment with the consent form.

import { call } from "./api.js";
import { t } from "./i18n.js";
import { cell, clear, siteName, when } from "./dom.js";
import { openEdit } from "./edit.js";
import { endPerson, fillRegistry } from "./registry.js";
import { allowed } from "./roles.js";

const NOTICE_VERSION = "2025-01";
let tree = { nodes: [], sites: [] };
let visitors = [];

/** Offer the compounds in scope and show the chosen one's residents and the visitors. */
export async function setUpResidents(current) {
  tree = current;
  const select = document.getElementById("r-compound");
  const chosen = select.value;
  clear(select);
  for (const site of tree.sites.filter((s) => s.kind === "compound")) select.append(new Option(site.name, site.id));
  if (chosen) select.value = chosen;
  select.onchange = () => reloadPeople();
  await reloadPeople();
}

/** Reload visitors, then the chosen compound's residents, the enrolment list and the forms. */
export async function reloadPeople() {
  visitors = await call("/api/dashboard/visitors");
  const body = clear(document.getElementById("visitor-rows"));
  for (const visitor of visitors) {
    const row = document.createElement("tr");
    row.dataset.personId = visitor.id;
    const state = `consent_${visitor.consent}`;
    row.append(
      cell(visitor.name),
      cell(siteName(visitor.compound_id)),
      cell(`${when(visitor.valid_from)} – ${when(visitor.valid_until)}`),
      cell(visitor.revoked ? t("yes") : t("no")),
      cell(t(state), state),
      actionsCell("visitor", visitor.id, !visitor.revoked, "revoke"),
    );
    body.append(row);
  }
  await loadResidents(document.getElementById("r-compound").value);
}

/** Edit and end (move out, revoke) buttons for a current person, shown to writers only. */
function actionsCell(kind, id, active, endLabel) {
  const element = cell("");
  if (!active || !allowed("writer")) return element;
  element.append(
    actionButton("edit", () => openEdit(kind, id)),
    actionButton(endLabel, () => endPerson(kind, id).then((ended) => ended && reloadPeople())),
  );
  return element;
}

function actionButton(label, act) {
  const button = document.createElement("button");
  button.textContent = t(label);
  button.dataset.action = label;
  button.onclick = () => act().catch((error) => window.alert(error.message));
  return button;
}

function consentState(records) {
  const current = records.find((record) => !record.withdrawn_at);
  if (current) return "consent_given";
  return records.length ? "consent_withdrawn" : "consent_none";
}

async function loadResidents(compoundId) {
  const residents = compoundId ? await call(`/api/compounds/${compoundId}/residents`) : [];
  const consents = await Promise.all(residents.map((r) => call(`/api/persons/${r.id}/consent`)));
  // A later choice may have answered first: only the compound still chosen is drawn.
  if (document.getElementById("r-compound").value !== compoundId) return;
  const body = clear(document.getElementById("resident-rows"));
  const person = clear(document.getElementById("e-person"));
  residents.forEach((resident, index) => {
    const state = consentState(consents[index]);
    const row = document.createElement("tr");
    row.dataset.personId = resident.id;
    row.append(
      cell(resident.name),
      cell(resident.id_number_masked ?? "—"),
      cell(t(state), state),
      actionsCell("resident", resident.id, !resident.moved_out_at, "move_out"),
    );
    body.append(row);
    if (!resident.moved_out_at) person.append(new Option(resident.name, resident.id));
  });
  for (const visitor of visitors.filter((v) => v.compound_id === compoundId && !v.revoked)) {
    person.append(new Option(`${visitor.name}（${t("visitor")}）`, visitor.id));
  }
  await fillRegistry(compoundId, residents, tree);
}

function showResult(text, ok) {
  const result = document.getElementById("enrol-result");
  result.textContent = text;
  result.className = ok ? "ok" : "refused";
}

/** Submit the enrolment form: consent first when the form is signed, then the photos. */
export async function submitEnrolment(form) {
  const data = new FormData(form);
  const personId = data.get("person");
  try {
    if (data.get("signed")) {
      const consent = {
        purpose: data.get("purpose"),
        retention_days: Number(data.get("retention_days")),
        notice_version: NOTICE_VERSION,
        method: "paper",
        given_at: new Date().toISOString(),
      };
      await call(`/api/persons/${personId}/consent`, { method: "POST", json: consent });
    }
    const photos = new FormData();
    for (const file of form.elements.photos.files) photos.append("photos", file);
    const made = await call(`/api/persons/${personId}/enrol`, { method: "POST", form: photos });
    showResult(`${t("enrolled")}: ${made.length}`, true);
  } catch (error) {
    showResult(`${t("refused")}: ${error.message}`, false);
  }
  await reloadPeople();
}
