import journal from "../../drizzle/meta/_journal.json";
import type { Config } from "../config";
import { withDeadline } from "../lib/deadline";
import { limiterFor } from "../rate-limit/middleware";

export type CheckStatus = "ok" | "warning" | "error";
export interface Check {
  status: CheckStatus;
  [detail: string]: unknown;
}

/** The migrations bundled with this Worker, named as wrangler records them in `d1_migrations`. */
export const BUNDLED_MIGRATIONS: readonly string[] = journal.entries.map((entry) => `${entry.tag}.sql`);

const CHECK_TIMEOUT_MS = 2_000;

/** A probe that may hang (a stuck binding) fails after CHECK_TIMEOUT_MS instead. */
function withTimeout<T>(probe: Promise<T>, what: string): Promise<T> {
  return withDeadline(probe, CHECK_TIMEOUT_MS, `${what} did not answer within ${CHECK_TIMEOUT_MS} ms`);
}

/**
 * What a probe queries: a D1 session, as every route's queries run in one (src/middleware/d1-session.ts),
 * so a database that answers the bare binding but not a session is not reported ready.
 */
type Probe = Pick<D1DatabaseSession, "prepare">;

/** The probes' session: the primary, where every write goes. */
export function probeSession(env: Env): Probe {
  return env.DB.withSession("first-primary");
}

export async function checkDatabase(db: Probe): Promise<Check> {
  const started = performance.now();
  try {
    await withTimeout(db.prepare("SELECT 1").first(), "The database");
    return { status: "ok", latency_ms: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { status: "error", detail: "The database did not answer SELECT 1" };
  }
}

export async function checkMigrations(db: Probe): Promise<Check> {
  try {
    const { results } = await withTimeout(db.prepare("SELECT name FROM d1_migrations").all<{ name: string }>(), "The database");
    const applied = new Set(results.map((row) => row.name));
    const pending = BUNDLED_MIGRATIONS.filter((name) => !applied.has(name));
    return pending.length === 0
      ? { status: "ok", applied: BUNDLED_MIGRATIONS.length }
      : { status: "error", detail: "Migrations are not applied; run the migrate command", pending };
  } catch {
    // No d1_migrations table: nothing was ever applied (or the database is down).
    return { status: "error", detail: "Could not read the applied migrations", pending: [...BUNDLED_MIGRATIONS] };
  }
}

/** Production names no binding; elsewhere the problems are spelled out. */
export function checkConfiguration(config: Config): Check {
  if (config.problems.length === 0) return { status: "ok", environment: config.environment };
  return config.isProduction
    ? { status: "error", detail: "The configuration is invalid; see the Worker's logs" }
    : { status: "error", environment: config.environment, problems: config.problems };
}

/** The limiter is probed without counting anything; a failure degrades (most tiers fail open). */
export async function checkRateLimiter(env: Env, config: Config): Promise<Check> {
  const started = performance.now();
  try {
    const { limit, windowMs } = config.rateLimits.health;
    await withTimeout(limiterFor(env, "health", "health-probe").peek(limit, windowMs), "The rate limiter");
    return { status: "ok", latency_ms: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { status: "warning", detail: "The rate limiter did not answer; limited tiers fail open or closed" };
  }
}

/** error anywhere → unhealthy; else a warning → degraded; else healthy. */
export function overallStatus(checks: Record<string, Check>): "healthy" | "degraded" | "unhealthy" {
  const statuses = Object.values(checks).map((check) => check.status);
  if (statuses.includes("error")) return "unhealthy";
  if (statuses.includes("warning")) return "degraded";
  return "healthy";
}

/** Every check of `/health`, with the overall status. */
export async function healthReport(env: Env, config: Config) {
  const session = probeSession(env);
  const [database, migrations, rate_limiter] = await Promise.all([
    checkDatabase(session),
    checkMigrations(session),
    checkRateLimiter(env, config),
  ]);
  const checks = { database, migrations, configuration: checkConfiguration(config), rate_limiter };
  return { status: overallStatus(checks), checks };
}
