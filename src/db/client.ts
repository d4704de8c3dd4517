import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { markDatabaseFailure } from "../errors";
import { withDeadline } from "../lib/deadline";
import * as schema from "./schema";

export type Database = ReturnType<typeof drizzle<typeof schema>>;

/**
 * How long one D1 call (a statement or a batch) may take before the request gives up on it and
 * answers 503 `database_error`, instead of hanging for as long as the caller waits. Far above any
 * query of this service (milliseconds; a 1000-book import in one batch takes well under a second)
 * and below D1's own 30-second limit. A write that times out may still commit later.
 */
export const D1_TIMEOUT_MS = 10_000;

/**
 * Bounds a call in time, and marks whatever it throws as a database failure: a batch is not
 * wrapped by drizzle, and an outage reads "Network connection lost." with no D1 prefix, so the
 * binding is the one place that knows an error came from D1 (503 database_error, never a 500).
 */
async function timeBound<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(
      Promise.resolve().then(call),
      D1_TIMEOUT_MS,
      `D1_TIMEOUT: the database did not answer within ${D1_TIMEOUT_MS} ms`,
    );
  } catch (error) {
    throw markDatabaseFailure(error);
  }
}

class TimedStatement {
  constructor(readonly inner: D1PreparedStatement) {}
  bind(...values: unknown[]) {
    return new TimedStatement(this.inner.bind(...values));
  }
  first(column?: string) {
    return timeBound(() => (column === undefined ? this.inner.first() : this.inner.first(column)));
  }
  run() {
    return timeBound(() => this.inner.run());
  }
  all() {
    return timeBound(() => this.inner.all());
  }
  raw(options?: { columnNames?: boolean }) {
    return timeBound(() => this.inner.raw(options as { columnNames: true }));
  }
}

/**
 * A D1 session with a deadline on every call, shaped as the `D1Database` that drizzle's D1 driver
 * expects: drizzle-orm 0.45 takes no session, but its driver only calls `prepare` and `batch`,
 * which a session has. This is the one place where drizzle meets D1.
 */
function timed(session: D1DatabaseSession): D1Database {
  const wrapper = {
    prepare: (query: string) => new TimedStatement(session.prepare(query)),
    batch: (statements: (TimedStatement | D1PreparedStatement)[]) =>
      timeBound(() => session.batch(statements.map((s) => (s instanceof TimedStatement ? s.inner : s)))),
  };
  return wrapper as unknown as D1Database;
}

/**
 * The drizzle client over one D1 session (`env.DB.withSession(...)`; DEPLOYMENT.md, "Read replication"): every
 * query of a request or of a scheduled run goes through one session, so each reads at least as
 * fresh as the one before it, whichever replica answers.
 */
export function sessionDatabase(session: D1DatabaseSession): Database {
  return drizzle(timed(session), { schema });
}

/**
 * The request's drizzle client, over the request's D1 session (opened by src/middleware/d1-session.ts:
 * the nearest replica for reads, the primary for writes, admin routes and login).
 */
export function database(c: Context<AppEnv>): Database {
  const open = c.get("db");
  if (!open) throw new Error("No D1 session for this request: the d1Session middleware must run first");
  return open();
}

/**
 * A drizzle client whose session starts at the primary, for work outside a request: scheduled
 * runs (src/scheduler/handler.ts creates theirs here, so every task inherits it), scripts and
 * tests. A new session per call: a run's queries share one.
 */
export function primaryDatabase(env: Env): Database {
  return sessionDatabase(env.DB.withSession("first-primary"));
}
