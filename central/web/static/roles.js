// What the signed-in role may do: write controls are hidden from roles the API would refuse.

const ALLOWED = { writer: ["admin", "operator"], admin: ["admin"] };
let role = "";

/** Remember the role and show or hide every element marked data-requires="writer|admin". */
export function applyRole(name) {
  role = name;
  for (const element of document.querySelectorAll("[data-requires]")) {
    element.hidden = !allowed(element.dataset.requires);
  }
}

/** Whether the signed-in role holds `need` ("writer" or "admin"). */
export function allowed(need) {
  return (ALLOWED[need] ?? []).includes(role);
}
