import { AppError, isDatabaseFailure } from "../errors";

/**
 * Why a background job failed, in words fit for a stored row that the API serves to viewers:
 * an AppError's own detail, else a generic reason. The full error goes to the log, never to the row.
 */
export function failureReason(error: unknown, event: string, context: Record<string, unknown> = {}): string {
  if (error instanceof AppError) return error.detail ?? error.message;
  const cause = error instanceof Error ? error : undefined;
  console.error(
    JSON.stringify({
      level: "error",
      event,
      ...context,
      error: cause ? `${cause.name}: ${cause.message}` : String(error),
      stack: cause?.stack,
    }),
  );
  return isDatabaseFailure(error)
    ? "Database error; see the Worker logs"
    : `Unexpected error (${cause?.name ?? "unknown"}); see the Worker logs`;
}

/**
 * A task run that failed part way: `cause` is why (recorded as the run's error), `metadata` what it
 * had done by then (recorded on the run all the same).
 */
export class TaskError extends Error {
  override readonly cause: unknown;
  readonly metadata: Record<string, unknown>;
  constructor(cause: unknown, metadata: Record<string, unknown>) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "TaskError";
    this.cause = cause;
    this.metadata = metadata;
  }
}
