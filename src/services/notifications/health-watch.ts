import { sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { healthStates } from "../../db/schema";
import { withDeadline } from "../../lib/deadline";
import { checkRateLimiter } from "../health";
import { enqueueNotifications, type NotificationInput } from "./enqueue";

/**
 * limiter.degraded and database.degraded: probed by the dispatcher once a tick (src/scheduler/dispatch.ts)
 * with /health's own probes, and told only when a state changes (degraded, then recovered): one
 * probe every 5 minutes whatever the traffic, so an outage is one event, not one per request. The
 * last state of each is a `health_states` row. A database that does not answer at all cannot
 * record its own event: monitor /health/ready for that (DEPLOYMENT.md, "Uptime monitoring").
 */

/** A database slower than this to answer SELECT 1 counts as degraded. */
export const SLOW_DATABASE_MS = 1_000;

type Component = "limiter" | "database";
export interface Probe {
  name: Component;
  degraded: boolean;
  detail: string | null;
}

/** The database as the tick's own session sees it: SELECT 1 within 2 s, and how long it took. */
async function probeDatabase(db: Database): Promise<Probe> {
  const started = performance.now();
  try {
    await withDeadline(db.run(sql`SELECT 1`), 2_000, "The database did not answer SELECT 1 within 2000 ms");
  } catch (error) {
    return { name: "database", degraded: true, detail: error instanceof Error ? error.message.slice(0, 200) : "SELECT 1 failed" };
  }
  const ms = Math.round(performance.now() - started);
  return ms > SLOW_DATABASE_MS
    ? { name: "database", degraded: true, detail: `SELECT 1 took ${ms} ms` }
    : { name: "database", degraded: false, detail: null };
}

/** The rate limiter (/health's probe, counting nothing) and the database, at once. */
export async function probeComponents(db: Database, env: Env, config: Config): Promise<Probe[]> {
  const [limiter, database] = await Promise.all([checkRateLimiter(env, config), probeDatabase(db)]);
  const limiterProbe: Probe = {
    name: "limiter",
    degraded: limiter.status !== "ok",
    detail: limiter.status === "ok" ? null : String(limiter.detail),
  };
  return [limiterProbe, database];
}

/** Records the probes' states and tells each change; answers the changes. Two D1 queries, three when something changed. */
export async function watchHealth(db: Database, probes: readonly Probe[], now = new Date()) {
  const stamp = now.toISOString();
  const known = new Map((await db.select().from(healthStates)).map((row) => [row.name, row]));
  const changed = probes.filter((probe) => (known.get(probe.name)?.status === "degraded") !== probe.degraded);
  if (changed.length === 0) return [];
  const events: NotificationInput[] = changed.map((probe) => ({
    event: probe.name === "limiter" ? "limiter.degraded" : "database.degraded",
    data: probe.degraded
      ? { state: "degraded", detail: probe.detail }
      : { state: "recovered", degraded_since: known.get(probe.name)?.since ?? null },
  }));
  const rows = JSON.stringify(
    changed.map((probe) => ({ name: probe.name, status: probe.degraded ? "degraded" : "ok", detail: probe.detail })),
  );
  await db.batch([
    db
      .insert(healthStates)
      .select(
        sql`SELECT json_extract(value, '$.name'), json_extract(value, '$.status'), ${stamp}, json_extract(value, '$.detail') FROM json_each(${rows}) WHERE true`,
      )
      .onConflictDoUpdate({
        target: healthStates.name,
        set: { status: sql`excluded.status`, since: sql`excluded.since`, detail: sql`excluded.detail` },
      }),
    enqueueNotifications(db, events, now),
  ]);
  return events;
}
