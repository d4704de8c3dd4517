import { Hono } from "hono";
import type { AppEnv } from "../context";
import { integrationStatuses } from "../integrations/status";
import { ok } from "../lib/response";

/** /api/integrations: live status of the outside services (cached up to 60 s). */
export const integrations = new Hono<AppEnv>();

integrations.get("/", async (c) => ok(c, await integrationStatuses(c.var.config)));
