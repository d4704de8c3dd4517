import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorCode } from "./codes";

/** One field-level problem of a failed validation, as in the error body's `errors[]` (./render.ts). */
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
 * The one error type handlers throw. `app.onError` turns it into the standard error body (./render.ts); nothing
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
