// Talking to central: the token lives in sessionStorage; every call carries it.

const TOKEN_KEY = "anju.token";

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

/** Forget the token (sign out). */
export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Exchange username and password for a token and keep it. */
export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const reply = await fetch("/api/auth/token", { method: "POST", body });
  if (!reply.ok) throw new ApiError(reply.status, await explain(reply));
  sessionStorage.setItem(TOKEN_KEY, (await reply.json()).access_token);
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
