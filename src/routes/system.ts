import { Hono } from "hono";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { ok } from "../lib/response";
import { healthReport } from "../services/health";
import { monitorStatus } from "../services/queue";
import * as service from "../services/system";
import { VERSION } from "../version";

export const system = new Hono<AppEnv>();

/** The health report with the component detail an operator wants, behind credentials. */
system.get("/health", async (c) => {
  const { status, checks } = await healthReport(c.env, c.var.config);
  // external_apis: configured or not, as the original answered; /api/integrations probes them live.
  const external_apis = Object.fromEntries(
    Object.entries(service.integrationsConfiguration(c.var.config)).map(([name, { configured }]) => [
      name,
      configured ? "configured" : "not_configured",
    ]),
  );
  return ok(c, { status, version: VERSION, environment: c.var.config.environment, checks, external_apis });
});

system.get("/stats", async (c) => ok(c, await service.systemStats(database(c))));

system.get("/library-status", async (c) => ok(c, await service.libraryStatus(database(c))));

system.get("/download-stats", async (c) => ok(c, await service.downloadStats(database(c))));

system.get("/storage", async (c) => ok(c, await service.storage(database(c))));

system.get("/qbittorrent/monitor-status", async (c) => ok(c, await monitorStatus(database(c), c.var.config)));

system.get("/configuration", (c) => ok(c, service.configuration(c.var.config)));
