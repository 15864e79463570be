// Talking to central: the token lives in sessionStorage; every call carries it.

const TOKEN_KEY = "anju.token";
// Renew this long before expiry, so a control-room screen never drops to the login.
const RENEW_MARGIN_MS = 120000;
const RETRY_MS = 15000;
let renewTimer = null;

/** An error from the API, with its HTTP status and the server's explanation. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** The stored access token, or null. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Forget the token (sign out) and stop renewing it. */
export function forget() {
  clearTimeout(renewTimer);
  sessionStorage.removeItem(TOKEN_KEY);
}

function expiresAtMs(value) {
  const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part)).exp * 1000;
}

function keep(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  const lifetime = expiresAtMs(value) - Date.now();
  schedule(Math.max(lifetime - Math.min(RENEW_MARGIN_MS, lifetime / 5), 1000));
}

function schedule(delay) {
  clearTimeout(renewTimer);
  // A failed renewal (central restarting, network blip) is retried while the token still holds.
  const retry = () => token() && expiresAtMs(token()) > Date.now() + RETRY_MS && schedule(RETRY_MS);
  renewTimer = setTimeout(() => renew().catch(retry), delay);
}

/** Trade the still-valid token for a new one (the server audits it) and schedule the next. */
export async function renew() {
  keep((await call("/api/auth/refresh")).access_token);
  window.dispatchEvent(new Event("anju:renewed"));
}

/** Keep the stored token (a reloaded page) renewed before it expires. */
export function keepRenewing() {
  if (token()) keep(token());
}

/** Exchange username and password for a token and keep it. */
export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const reply = await fetch("/api/auth/token", { method: "POST", body });
  if (!reply.ok) throw new ApiError(reply.status, await explain(reply));
  keep((await reply.json()).access_token);
}

async function explain(reply) {
  try {
    const detail = (await reply.json()).detail;
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  } catch {
    return reply.statusText;
  }
}

/** Call `path`; JSON bodies are encoded, FormData passed as is. Throws ApiError. */
export async function call(path, { method = "GET", json, form } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const reply = await fetch(path, { method, headers, body });
  if (reply.status === 401) {
    forget();
    window.dispatchEvent(new Event("anju:signed-out"));
  }
  if (!reply.ok) throw new ApiError(reply.status, await explain(reply));
  return reply.status === 204 ? null : reply.json();
}

/** Open the live stream; `onItem(kind, data)` for each event and alarm. */
export function stream(onItem, onState) {
  const source = new EventSource(`/api/stream?token=${encodeURIComponent(token())}`);
  for (const kind of ["event", "alarm"]) {
    source.addEventListener(kind, (message) => onItem(kind, JSON.parse(message.data)));
  }
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  return source;
}
