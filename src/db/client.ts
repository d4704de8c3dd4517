import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof drizzle<typeof schema>>;

const cache = new WeakMap<D1Database, Database>();

/** The drizzle client over the request's D1 binding (one per binding, reused across requests). */
export function database(env: Env): Database {
  let db = cache.get(env.DB);
  if (!db) {
    db = drizzle(env.DB, { schema });
    cache.set(env.DB, db);
  }
  return db;
}
