import { createRoute } from "@hono/zod-openapi";
import { database } from "../db/client";
import { ok } from "../lib/response";
import { router, success } from "../openapi/declare";
import { healthReport } from "../services/health";
import { monitorStatus } from "../services/queue";
import * as service from "../services/system";
import { VERSION } from "../version";
import * as schemas from "./system.schemas";

/** `/api/system`: figures for operators, each an aggregate computed by D1. */
export const system = router();

const tags = ["system"];

system.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags,
    summary: "Health for operators",
    description:
      "The health report with the environment and whether each outside service is configured (/api/integrations probes them live).",
    responses: { 200: success(schemas.systemHealth, "The health report") },
  }),
  async (c) => {
    const { status, checks } = await healthReport(c.env, c.var.config);
    // external_apis: configured or not, as the original answered; /api/integrations probes them live.
    const external_apis = Object.fromEntries(
      Object.entries(service.integrationsConfiguration(c.var.config)).map(([name, { configured }]) => [
        name,
        configured ? ("configured" as const) : ("not_configured" as const),
      ]),
    );
    return ok(c, { status, version: VERSION, environment: c.var.config.environment, checks, external_apis });
  },
);

system.openapi(
  createRoute({
    method: "get",
    path: "/stats",
    tags,
    summary: "Catalogue and queue counts",
    description: "Books by status, series, authors, downloads by status and failed attempts.",
    responses: { 200: success(schemas.stats, "The counts") },
  }),
  async (c) => ok(c, await service.systemStats(database(c))),
);

system.openapi(
  createRoute({
    method: "get",
    path: "/library-status",
    tags,
    summary: "Library quality",
    description: "Metadata quality of the active books, and the series and author completion summaries.",
    responses: { 200: success(schemas.libraryStatusSchema, "The library's quality and completion") },
  }),
  async (c) => ok(c, await service.libraryStatus(database(c))),
);

system.openapi(
  createRoute({
    method: "get",
    path: "/download-stats",
    tags,
    summary: "Download queue figures",
    description: "Downloads by status and by source, and how many queued ones are due for a retry.",
    responses: { 200: success(schemas.downloadStatsSchema, "The queue's figures") },
  }),
  async (c) => ok(c, await service.downloadStats(database(c))),
);

system.openapi(
  createRoute({
    method: "get",
    path: "/storage",
    tags,
    summary: "Database storage",
    description: "Rows per table and the database's size as D1 reports it (no audio is stored here).",
    responses: { 200: success(schemas.storageSchema, "Rows and size") },
  }),
  async (c) => ok(c, await service.storage(database(c))),
);

system.openapi(
  createRoute({
    method: "get",
    path: "/qbittorrent/monitor-status",
    tags,
    summary: "qBittorrent monitor",
    description: "What the last queue poll saw in qBittorrent, the downloads in flight and the last queue run.",
    responses: { 200: success(schemas.monitorStatusSchema, "The monitor's view") },
  }),
  async (c) => ok(c, await monitorStatus(database(c), c.var.config)),
);

system.openapi(
  createRoute({
    method: "get",
    path: "/configuration",
    tags,
    summary: "Configuration in force",
    description: "Features, integrations, limits, CORS origins and retention in force; secrets appear only as configured or not.",
    responses: { 200: success(schemas.configurationSchema, "The configuration") },
  }),
  (c) => ok(c, service.configuration(c.var.config)),
);
