import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { SERVICE_NAMES } from "../config";
import { database } from "../db/client";
import { integrationStatuses } from "../integrations/status";
import { ok } from "../lib/response";
import { timestamp } from "../openapi/common";
import { router, success } from "../openapi/declare";
import { d1LoginRefusals } from "../services/login-refusals";

const statuses = z.strictObject({
  integrations: z.array(
    z.strictObject({
      name: z.enum(SERVICE_NAMES),
      configured: z.boolean(),
      status: z.enum(["ok", "error", "not_configured"]),
      latency_ms: z.number().nullable(),
      version: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
  checked_at: timestamp,
  cached: z.boolean().meta({ description: "Answered from the last probe (at most 60 s old)" }),
});

/** /api/integrations: live status of the outside services (cached up to 60 s). */
export const integrations = router();

integrations.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["integrations"],
    summary: "Outside services' status",
    description:
      "Whether Audiobookshelf, qBittorrent, Prowlarr and Google Books are configured, and the first three answering a cheap probe now (cached up to 60 s). A failing service is a status, not an error.",
    responses: { 200: success(statuses, "Each service's status") },
  }),
  async (c) => ok(c, await integrationStatuses(c.var.config, { qbRefusals: d1LoginRefusals(database(c)) })),
);
