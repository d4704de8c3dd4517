import { DrizzleQueryError } from "drizzle-orm/errors";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, DatabaseError, ValidationError } from "./app-error";
import type { ErrorCode } from "./codes";
import { isDatabaseFailure } from "./database";

// From a thrown value to the response: the only place an error body is written.

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

/** The standard error body, as /openapi.json documents it. `context` is debug data and never leaves production. */
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
