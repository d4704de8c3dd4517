import { Hono } from "hono";
import type { AppEnv } from "../context";
import { checkConfiguration, checkDatabase, checkMigrations, healthReport, overallStatus } from "../services/health";
import { VERSION, workerVersion } from "../version";

/**
 * Probes for uptime monitors and deploy pipelines: no credentials, never cached, no secrets.
 * They answer in their own shape (contract, section 7), not the envelope. `worker_version` is the
 * Cloudflare version id and tag, which `npm run smoke -- <url> --expect-version <id>` checks.
 */
export const health = new Hono<AppEnv>();

health.use(async function noStore(c, next) {
  await next();
  c.header("Cache-Control", "no-store");
});

health.get("/", async (c) => {
  const { status, checks } = await healthReport(c.env, c.var.config);
  return c.json(
    { status, version: VERSION, worker_version: workerVersion(c.env), timestamp: new Date().toISOString(), checks },
    status === "unhealthy" ? 503 : 200,
  );
});

/** Liveness: the isolate answers. Touches nothing, so a broken dependency never restarts it. */
health.get("/live", (c) =>
  c.json({ status: "alive", version: VERSION, worker_version: workerVersion(c.env), timestamp: new Date().toISOString() }),
);

/** Readiness: safe to send traffic (database up, every bundled migration applied, configuration valid). */
health.get("/ready", async (c) => {
  const [database, migrations] = await Promise.all([checkDatabase(c.env.DB), checkMigrations(c.env.DB)]);
  const checks = { database, migrations, configuration: checkConfiguration(c.var.config) };
  const ready = overallStatus(checks) !== "unhealthy";
  return c.json(
    {
      status: ready ? "ready" : "not_ready",
      version: VERSION,
      worker_version: workerVersion(c.env),
      timestamp: new Date().toISOString(),
      checks,
    },
    ready ? 200 : 503,
  );
});
