import { Hono } from "hono";
import type { AppEnv } from "../context";
import { ok } from "../lib/response";
import { healthReport } from "../services/health";
import { VERSION } from "../version";

export const system = new Hono<AppEnv>();

/** The health report with the component detail an operator wants, behind credentials. */
system.get("/health", async (c) => {
  const { status, checks } = await healthReport(c.env, c.var.config);
  return ok(c, { status, version: VERSION, environment: c.var.config.environment, checks });
});
