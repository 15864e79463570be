// Residents with their consent state, and face enrolment with the consent form.

import { call } from "./api.js";
import { t } from "./i18n.js";
import { cell, clear, siteName, when } from "./dom.js";

const NOTICE_VERSION = "2025-01";

/** Offer the compounds in scope and show the first one's residents. */
export async function setUpResidents(sites) {
  const select = document.getElementById("r-compound");
  const chosen = select.value;
  clear(select);
  for (const site of sites.filter((s) => s.kind === "compound")) select.append(new Option(site.name, site.id));
  if (chosen) select.value = chosen;
  select.onchange = () => loadResidents(select.value);
  if (select.value) await loadResidents(select.value);
  await loadVisitors();
}

/** Visitors in scope with the state of their consent and visit. */
export async function loadVisitors() {
  const body = clear(document.getElementById("visitor-rows"));
  for (const visitor of await call("/api/dashboard/visitors")) {
    const row = document.createElement("tr");
    const state = `consent_${visitor.consent}`;
    row.append(
      cell(visitor.name),
      cell(siteName(visitor.compound_id)),
      cell(`${when(visitor.valid_from)} – ${when(visitor.valid_until)}`),
      cell(visitor.revoked ? t("yes") : t("no")),
      cell(t(state), state),
    );
    body.append(row);
  }
}

function consentState(records) {
  const current = records.find((record) => !record.withdrawn_at);
  if (current) return "consent_given";
  return records.length ? "consent_withdrawn" : "consent_none";
}

async function loadResidents(compoundId) {
  const residents = await call(`/api/compounds/${compoundId}/residents`);
  const consents = await Promise.all(residents.map((r) => call(`/api/persons/${r.id}/consent`)));
  // A later choice may have answered first: only the compound still chosen is drawn.
  if (document.getElementById("r-compound").value !== compoundId) return;
  const body = clear(document.getElementById("resident-rows"));
  const person = clear(document.getElementById("e-person"));
  residents.forEach((resident, index) => {
    const state = consentState(consents[index]);
    const row = document.createElement("tr");
    row.dataset.personId = resident.id;
    row.append(cell(resident.name), cell(resident.id_number_masked ?? "—"), cell(t(state), state));
    body.append(row);
    person.append(new Option(resident.name, resident.id));
  });
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
  await loadResidents(document.getElementById("r-compound").value);
}
