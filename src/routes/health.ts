import { createRoute } from "@hono/zod-openapi";
import { json, router } from "../openapi/declare";
import { checkConfiguration, checkDatabase, checkMigrations, healthReport, overallStatus, probeSession } from "../services/health";
import { VERSION, workerVersion } from "../version";
import { healthSchema, liveSchema, readySchema } from "./health.schemas";

/**
 * Probes for uptime monitors and deploy pipelines: no credentials, never cached, no secrets.
 * They answer in their own shape (README, health probes), not the envelope. `worker_version` is the
 * Cloudflare version id and tag, which `npm run smoke -- <url> --expect-version <id>` checks.
 */
export const health = router();

const tags = ["health"];

health.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "Service health",
    description:
      "Every dependency probed (database, migrations, configuration, rate limiter): healthy, degraded (the limiter is down) or unhealthy. Not in the envelope.",
    responses: {
      200: json(healthSchema, "Healthy or degraded"),
      503: json(healthSchema, "Unhealthy: a check failed (see checks)"),
    },
  }),
  async (c) => {
    const { status, checks } = await healthReport(c.env, c.var.config);
    const body = { status, version: VERSION, worker_version: workerVersion(c.env), timestamp: new Date().toISOString(), checks };
    return status === "unhealthy" ? c.json(body, 503) : c.json(body, 200);
  },
);

/** Liveness: the isolate answers. Touches nothing, so a broken dependency never restarts it. */
health.openapi(
  createRoute({
    method: "get",
    path: "/live",
    tags,
    summary: "Liveness",
    description: "Answers as long as the Worker runs; touches no dependency, so a failing database never restarts it.",
    responses: { 200: json(liveSchema, "The Worker runs") },
  }),
  (c) =>
    c.json({ status: "alive" as const, version: VERSION, worker_version: workerVersion(c.env), timestamp: new Date().toISOString() }, 200),
);

/** Readiness: safe to send traffic (database up, every bundled migration applied, configuration valid). */
health.openapi(
  createRoute({
    method: "get",
    path: "/ready",
    tags,
    summary: "Readiness",
    description: "Whether traffic may be sent: the database answers, every bundled migration is applied and the configuration is valid.",
    responses: {
      200: json(readySchema, "Ready"),
      503: json(readySchema, "Not ready (see checks)"),
    },
  }),
  async (c) => {
    const session = probeSession(c.env);
    const [database, migrations] = await Promise.all([checkDatabase(session), checkMigrations(session)]);
    const checks = { database, migrations, configuration: checkConfiguration(c.var.config) };
    const ready = overallStatus(checks) !== "unhealthy";
    const body = { version: VERSION, worker_version: workerVersion(c.env), timestamp: new Date().toISOString(), checks };
    return ready ? c.json({ status: "ready" as const, ...body }, 200) : c.json({ status: "not_ready" as const, ...body }, 503);
  },
);
