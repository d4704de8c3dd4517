import { DrizzleQueryError } from "drizzle-orm/errors";

// Recognising what D1 threw: a failure of the database, or a UNIQUE index refusing a row.

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
