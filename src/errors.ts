import { DrizzleQueryError } from "drizzle-orm/errors";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code the service can answer with, and its HTTP status. The list is the original's
 * `errors.py` ErrorCode enum (reference, section 4) plus the codes the contract adds
 * (method_not_allowed, payload_too_large, unsupported_media_type, account_locked,
 * configuration_error). Codes the original left without a fixed status get the one that fits.
 */
export const ERROR_STATUS = {
  // 400
  validation_error: 422,
  invalid_input: 400,
  malformed_request: 400,
  missing_field: 400,
  // 401
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  no_authentication: 401,
  // 403
  forbidden: 403,
  insufficient_permissions: 403,
  access_denied: 403,
  // 404, 405
  not_found: 404,
  resource_not_found: 404,
  endpoint_not_found: 404,
  method_not_allowed: 405,
  // 409
  conflict: 409,
  duplicate_resource: 409,
  resource_exists: 409,
  // 413, 415, 422, 423
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable_entity: 422,
  account_locked: 423,
  // 429
  rate_limit_exceeded: 429,
  too_many_requests: 429,
  // 500
  internal_error: 500,
  internal_server_error: 500,
  unknown_error: 500,
  processing_error: 500,
  async_task_failed: 500,
  // 502
  bad_gateway: 502,
  upstream_error: 502,
  external_api_error: 502,
  audiobookshelf_error: 502,
  qbittorrent_error: 502,
  mam_crawl_error: 502,
  download_failed: 502,
  metadata_error: 502,
  // 503
  service_unavailable: 503,
  maintenance: 503,
  configuration_error: 503,
  database_error: 503,
  database_connection_error: 503,
  transaction_failed: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One field-level problem of a failed validation, as in the contract's `errors[]`. */
export interface FieldError {
  path: string;
  message: string;
  code: string;
}

export interface AppErrorOptions {
  detail?: string;
  /** Debug data: shown outside production only. */
  context?: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After` or `Allow`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * The one error type handlers throw. `app.onError` turns it into the contract's JSON; nothing
 * else writes an error response.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly detail: string | undefined;
  readonly context: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.detail = options.detail;
    this.context = options.context;
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends AppError {
  readonly errors: FieldError[];
  constructor(errors: FieldError[], options: AppErrorOptions = {}) {
    const first = errors[0];
    super("validation_error", "Request validation failed", {
      detail: first ? `${first.path}: ${first.message}` : undefined,
      ...options,
    });
    this.errors = errors;
  }
}

export class MalformedRequestError extends AppError {
  constructor(detail = "The request body is not valid JSON") {
    super("malformed_request", "Malformed request", { detail });
  }
}

export class UnauthorizedError extends AppError {
  constructor(
    code: "unauthorized" | "invalid_credentials" | "invalid_token" | "token_expired" = "unauthorized",
    detail = "Authentication required",
    headers?: Record<string, string>,
  ) {
    const messages = {
      unauthorized: "Authentication required",
      invalid_credentials: "Invalid credentials",
      invalid_token: "Invalid token",
      token_expired: "Token expired",
    } as const;
    super(code, messages[code], { detail, headers });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = "Insufficient permissions") {
    super("forbidden", "Forbidden", { detail });
  }
}

export class NotFoundError extends AppError {
  /** `new NotFoundError("Book", 12)` → detail "Book not found: 12". */
  constructor(resource: string, id?: string | number) {
    super("not_found", "Resource not found", {
      detail: id === undefined ? `${resource} not found` : `${resource} not found: ${id}`,
    });
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, allowed: string[]) {
    super("method_not_allowed", "Method not allowed", {
      detail: `${method} is not allowed here; allowed: ${allowed.join(", ")}`,
      headers: { Allow: allowed.join(", ") },
    });
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, code: "conflict" | "duplicate_resource" = "conflict", context?: Record<string, unknown>) {
    super(code, code === "conflict" ? "Conflict" : "Resource already exists", { detail, context });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super("payload_too_large", "Payload too large", {
      detail: `The request body exceeds ${maxBytes} bytes`,
    });
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(contentType: string | undefined) {
    super("unsupported_media_type", "Unsupported media type", {
      detail: `Send the body as application/json${contentType ? ` (got ${contentType.slice(0, 100)})` : ""}`,
    });
  }
}

export class AccountLockedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super("account_locked", "Account locked", {
      detail: "Too many failed logins; try again later",
      headers: { "Retry-After": String(retryAfterSeconds) },
    });
  }
}

export class RateLimitError extends AppError {
  constructor(tier: string, retryAfterSeconds: number, headers: Record<string, string>) {
    super("rate_limit_exceeded", "Too many requests. Please try again later.", {
      detail: `Rate limit of the ${tier} tier exceeded; retry in ${retryAfterSeconds} s`,
      headers: { ...headers, "Retry-After": String(retryAfterSeconds) },
    });
  }
}

export class DatabaseError extends AppError {
  constructor(cause?: unknown) {
    super("database_error", "Database unavailable", { detail: "The database could not be reached; try again", cause });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(detail: string, headers?: Record<string, string>) {
    super("service_unavailable", "Service unavailable", { detail, headers });
  }
}

export class ConfigurationError extends AppError {
  /** `detail` names what to set; callers pass a generic text in production. */
  constructor(detail: string) {
    super("configuration_error", "Service misconfigured", { detail });
  }
}

/** Errors thrown by the D1 binding (marked where the binding is called: src/db/client.ts). */
const databaseFailures = new WeakSet<Error>();

/** Marks a value thrown by the D1 binding, as it is (an Error) or wrapped in one. */
export function markDatabaseFailure(thrown: unknown): Error {
  const error = thrown instanceof Error ? thrown : new Error(`D1 failure: ${String(thrown)}`);
  databaseFailures.add(error);
  return error;
}

/** Whether a thrown value came from D1 (directly, or wrapped by drizzle as its cause). */
export function isDatabaseFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (databaseFailures.has(e) || e instanceof DrizzleQueryError || /\bD1_|SQLITE_/.test(e.message)) return true;
  }
  return false;
}

/** Whether a thrown value is D1 refusing a row that breaks a UNIQUE index (optionally a named one). */
export function isUniqueViolation(error: unknown, index?: string): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/UNIQUE constraint failed/.test(e.message) && (index === undefined || e.message.includes(index))) return true;
  }
  return false;
}

/** Any thrown value as an AppError: ours as they are, framework and D1 failures mapped, the rest 500. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    // Hono's own refusals: the validator's unparsable JSON, a body limit, and so on.
    const code = HTTP_EXCEPTION_CODES[error.status] ?? (error.status >= 500 ? "internal_error" : "invalid_input");
    return new AppError(code, error.message || "Request refused", { detail: error.message, cause: error });
  }
  if (isDatabaseFailure(error)) return new DatabaseError(error);
  return new AppError("internal_error", "Internal server error", {
    detail: "An unexpected error occurred",
    context: error instanceof Error ? { exception: error.name, message: error.message } : { thrown: String(error) },
    cause: error,
  });
}

const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: "malformed_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_error",
  429: "rate_limit_exceeded",
  502: "bad_gateway",
  503: "service_unavailable",
};

/** The contract's error body (section 2). `context` is debug data and never leaves production. */
export function errorBody(error: AppError, requestId: string, isProduction: boolean) {
  return {
    success: false as const,
    error: error.code,
    code: error.code.toUpperCase(),
    message: error.message,
    status_code: error.status,
    detail: error.detail ?? null,
    timestamp: new Date().toISOString(),
    request_id: requestId,
    ...(error instanceof ValidationError ? { errors: error.errors } : {}),
    ...(!isProduction && error.context ? { context: error.context } : {}),
  };
}

/** Renders an error as the response: the only place an error body is written. */
export function renderError(c: Context, thrown: unknown): Response {
  const error = toAppError(thrown);
  const requestId: string = c.get("requestId") ?? "unknown";
  const config: { isProduction: boolean } | undefined = c.get("config");
  // Without a parsed configuration, assume production and show nothing internal.
  const isProduction = config?.isProduction ?? true;
  // Unexpected failures are logged with their cause; expected 503s (configuration, a limiter
  // failing closed) are already logged once where they arise.
  if (error.status >= 500 && error.code !== "configuration_error" && error.code !== "service_unavailable") {
    const cause = loggableCause(error.cause);
    console.error(
      JSON.stringify({
        level: "error",
        event: "request_failed",
        request_id: requestId,
        method: c.req.method,
        path: c.req.path,
        code: error.code,
        error: cause ? `${cause.name}: ${cause.message}` : error.message,
        stack: cause?.stack,
      }),
    );
  }
  return c.json(errorBody(error, requestId, isProduction), error.status, { ...error.headers, "X-Request-ID": requestId });
}

/**
 * The cause worth logging. drizzle wraps a D1 failure in an error whose message repeats the SQL
 * and its bound values (names, emails, password hashes): log the D1 error underneath instead.
 */
function loggableCause(cause: unknown): Error | undefined {
  if (!(cause instanceof Error)) return undefined;
  if (cause instanceof DrizzleQueryError && cause.cause instanceof Error) return cause.cause;
  return cause;
}
