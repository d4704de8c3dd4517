import { Hono } from "hono";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { ok } from "../lib/response";
import { healthReport } from "../services/health";
import * as service from "../services/system";
import { VERSION } from "../version";

export const system = new Hono<AppEnv>();

/** The health report with the component detail an operator wants, behind credentials. */
system.get("/health", async (c) => {
  const { status, checks } = await healthReport(c.env, c.var.config);
  return ok(c, { status, version: VERSION, environment: c.var.config.environment, checks });
});

system.get("/stats", async (c) => ok(c, await service.systemStats(database(c.env))));

system.get("/library-status", async (c) => ok(c, await service.libraryStatus(database(c.env))));

system.get("/download-stats", async (c) => ok(c, await service.downloadStats(database(c.env))));

system.get("/storage", async (c) => ok(c, await service.storage(database(c.env))));

system.get("/configuration", (c) => ok(c, service.configuration(c.var.config)));
