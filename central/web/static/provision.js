// Device provisioning (admins): the credentials come back once and are shown once.

import { call } from "./api.js";
import { t } from "./i18n.js";
import { clear } from "./dom.js";

let sites = [];

/** Offer the sites in scope; the form is shown to admins only (the API enforces it too). */
export function setUpProvisioning(tree, role) {
  document.getElementById("provision-form").hidden = role !== "admin";
  sites = tree.sites;
  const select = document.getElementById("p-site");
  const chosen = select.value;
  clear(select);
  for (const site of sites) select.append(new Option(site.name, site.id));
  if (chosen) select.value = chosen;
  select.onchange = () => loadGates(select.value);
  return loadGates(select.value);
}

async function loadGates(siteId) {
  const site = sites.find((s) => s.id === siteId);
  const found = site?.kind === "compound" ? await call(`/api/compounds/${siteId}/gates`) : [];
  // A later choice may have answered first: only the site still chosen fills the list.
  if (document.getElementById("p-site").value !== siteId) return;
  const gates = clear(document.getElementById("p-gate"));
  gates.disabled = site?.kind !== "compound";
  for (const gate of found) gates.append(new Option(gate.name, gate.id));
}

/** Provision a device for the chosen gate or outlet and show its credentials once. */
export async function provisionDevice(form) {
  const data = new FormData(form);
  const site = sites.find((s) => s.id === data.get("site"));
  const body =
    site.kind === "compound" ? { kind: "gate", gate_id: data.get("gate") } : { kind: "outlet", outlet_id: site.id };
  const made = await call("/api/devices", { method: "POST", json: body });
  const shown = {
    device_id: made.device.id,
    mqtt_username: made.device.mqtt_username,
    mqtt_password: made.mqtt_password,
    private_key: made.private_key,
    gallery_key: made.gallery_key,
    central_public_key: made.central_public_key,
  };
  document.getElementById("p-once").textContent = t("credentials_once");
  document.getElementById("p-secrets").textContent = JSON.stringify(shown, null, 2);
}
