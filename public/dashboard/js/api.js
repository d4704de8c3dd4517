// Talks to this Worker's /api: the credentials of the signed-in person, the standard envelope,
// and errors in plain words. The credential lives in sessionStorage (this tab only, gone when it
// closes) and travels in a header, never in a cookie, so no other site can ride on it.

const STORE = "mamcrawler.session";
let bookmark = null; // the newest X-D1-Bookmark: later reads see this tab's own writes

/** @returns {{kind: "token"|"key", secret: string, role?: string, name?: string} | null} */
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) ?? "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
}

/** Operators, moderators and admins may change things; viewers only look. */
export const canOperate = () => ["admin", "operator", "moderator"].includes(session()?.role ?? "");
/** Running, pausing and rescheduling tasks is for admins (and the operator key). */
export const canAdmin = () => session()?.role === "admin";

/** A failed call, from the standard error shape (or from the network). */
export class ApiError extends Error {
  constructor({ status, error, message, detail, request_id, retryAfter }) {
    super(message || "The request failed");
    this.status = status;
    this.code = error || "network_error";
    this.detail = detail || "";
    this.requestId = request_id || "";
    this.retryAfter = retryAfter;
  }
  /** The route is not on this server yet, or its outside service is not set up. */
  get unavailable() {
    return this.status === 404 || this.status === 501 || this.code === "service_unavailable" || this.code === "configuration_error";
  }
}

const PLAIN = {
  unauthorized: "You are not signed in, or your sign-in has ended.",
  invalid_token: "Your sign-in has ended. Please sign in again.",
  token_expired: "Your sign-in has expired. Please sign in again.",
  invalid_credentials: "That user name, password or key is not right.",
  account_locked: "This account is locked after too many failed sign-ins. Try again later.",
  forbidden: "Your role does not allow this.",
  not_found: "This was not found.",
  conflict: "This clashes with the current state.",
  validation_error: "Some input is not valid.",
  rate_limit_exceeded: "Too many requests for now.",
  service_unavailable: "An outside service is not available.",
  configuration_error: "The server is not fully configured.",
  database_error: "The database is not answering.",
  internal_error: "The server failed unexpectedly.",
  network_error: "The server could not be reached.",
};

/** The error as a sentence a person can act on. */
export function plainWords(error) {
  if (!(error instanceof ApiError)) return String(error?.message ?? error);
  // The plain sentence of a known code, else the server's own message; then its detail.
  let text = PLAIN[error.code] ?? `${error.message || (error.status >= 500 ? "The server failed" : "The request was refused")}.`;
  if (error.detail) text += ` (${error.detail})`;
  if (error.retryAfter) text += ` Try again in ${error.retryAfter} s.`;
  return text.replace(/\.\./g, ".");
}

let onSignedOut = () => {};
/** Called when the server says the credentials no longer work. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

function authHeaders(current) {
  if (!current) return {};
  return current.kind === "key" ? { "X-API-Key": current.secret } : { Authorization: `Bearer ${current.secret}` };
}

/**
 * Calls the API and answers `data`, or throws an ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{credentials?: object|null, quiet401?: boolean}} [options]
 */
export async function api(method, path, body, options = {}) {
  const current = options.credentials === undefined ? session() : options.credentials;
  const headers = { Accept: "application/json", ...authHeaders(current) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (bookmark) headers["X-D1-Bookmark"] = bookmark;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (cause) {
    throw new ApiError({ status: 0, error: "network_error", message: String(cause?.message ?? cause) });
  }
  const newer = response.headers.get("X-D1-Bookmark");
  if (newer && (!bookmark || newer > bookmark)) bookmark = newer;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // not JSON: described by the status below
  }
  if (response.ok && payload?.success) return payload.data;
  const error = new ApiError({
    status: response.status,
    ...(payload && typeof payload === "object" ? payload : { message: `HTTP ${response.status}` }),
    request_id: payload?.request_id ?? response.headers.get("X-Request-ID") ?? "",
    retryAfter: response.headers.get("Retry-After"),
  });
  if (response.status === 401 && current && !options.quiet401) onSignedOut(error);
  throw error;
}

const tokenOf = (answer) => ({ kind: "token", secret: answer.access_token, expiresAt: Date.now() + answer.expires_in * 1000 });

/** Signs in with a user (a 30-minute token, refreshed while the tab is open) or with an API key; answers the saved session. */
export async function signIn({ username, password, key }) {
  let credentials;
  if (key !== undefined) {
    credentials = { kind: "key", secret: key };
  } else {
    credentials = tokenOf(await api("POST", "/api/admin/login", { username, password }, { credentials: null }));
  }
  const me = await api("GET", "/api/admin/me", undefined, { credentials, quiet401: true });
  const name = me.user?.username ?? me.api_key?.name ?? (me.kind === "operator" ? "operator key" : "signed in");
  const saved = { ...credentials, role: me.role, name };
  saveSession(saved);
  return saved;
}

/** Signs out: a user's token is revoked on the server, then forgotten here. */
export async function signOut() {
  const current = session();
  try {
    if (current?.kind === "token") await api("POST", "/api/admin/logout", {}, { quiet401: true });
  } finally {
    saveSession(null);
    bookmark = null;
  }
}

/** A token is renewed when less than this is left of it (it lives 30 minutes). */
const RENEW_WITHIN_MS = 10 * 60_000;

/**
 * Renews a user's token before it runs out (POST /api/admin/refresh: the old token is revoked, the
 * session lasts at most 12 hours from the login). Called every minute while the tab is open; a
 * refused refresh signs out with the server's reason.
 */
export async function keepSessionFresh(now = Date.now()) {
  const current = session();
  if (current?.kind !== "token" || !current.expiresAt || current.expiresAt - now > RENEW_WITHIN_MS) return;
  const answer = await api("POST", "/api/admin/refresh", {});
  saveSession({ ...current, ...tokenOf(answer) });
}
