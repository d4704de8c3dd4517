import { drizzle } from "drizzle-orm/d1";
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

/** Fails like a D1 error ("D1_..."), so the error handler answers it as a database failure. */
function timeBound<T>(call: () => Promise<T>): Promise<T> {
  return withDeadline(call(), D1_TIMEOUT_MS, `D1_TIMEOUT: the database did not answer within ${D1_TIMEOUT_MS} ms`);
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

/** The binding with a deadline on every call: what drizzle's D1 driver uses of it. */
function timed(db: D1Database): D1Database {
  const wrapper = {
    prepare: (query: string) => new TimedStatement(db.prepare(query)),
    batch: (statements: (TimedStatement | D1PreparedStatement)[]) =>
      timeBound(() => db.batch(statements.map((s) => (s instanceof TimedStatement ? s.inner : s)))),
    exec: (query: string) => timeBound(() => db.exec(query)),
  };
  return wrapper as unknown as D1Database;
}

const cache = new WeakMap<D1Database, Database>();

/** The drizzle client over the request's D1 binding (one per binding, reused across requests). */
export function database(env: Env): Database {
  let db = cache.get(env.DB);
  if (!db) {
    db = drizzle(timed(env.DB), { schema });
    cache.set(env.DB, db);
  }
  return db;
}
