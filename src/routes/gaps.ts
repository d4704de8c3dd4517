import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { GAP_DOWNLOAD_STATUSES, GAP_REASONS } from "../db/schema";
import { pageQuery } from "../lib/pagination";
import { ok } from "../lib/response";
import { decimalInt, validate } from "../lib/validate";
import * as service from "../services/gaps";

const id = decimalInt(z.number().positive());
const name = z.string().trim().min(1).max(500);

const missingQuery = pageQuery.extend({
  series_id: id.optional(),
  series: name.optional(),
  author_id: id.optional(),
  author: name.optional(),
  status: z.enum(GAP_DOWNLOAD_STATUSES).optional(),
  reason: z.enum(GAP_REASONS).optional(),
  resolved: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional(),
});

/** `/api/gaps` (reference 2.11): gap analysis from the database alone. */
export const gaps = new Hono<AppEnv>();

gaps.post("/analyze", async (c) => ok(c, await service.analyzeGaps(database(c))));

gaps.get("/missing", validate("query", missingQuery), async (c) => ok(c, await service.listGaps(database(c), c.req.valid("query"))));

gaps.get("/report", async (c) => ok(c, await service.gapReport(database(c))));

gaps.get("/history", validate("query", pageQuery), async (c) => ok(c, await service.gapHistory(database(c), c.req.valid("query"))));

gaps.delete("/reset-state", async (c) => ok(c, await service.resetGapState(database(c))));
