import { Hono } from "hono";
import { z } from "zod";
import type { Config } from "../config";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { GAP_DOWNLOAD_STATUSES, GAP_REASONS } from "../db/schema";
import { prowlarr } from "../integrations/prowlarr";
import { pageQuery } from "../lib/pagination";
import { ok } from "../lib/response";
import { decimalInt, validate } from "../lib/validate";
import { acquire, type Search } from "../services/acquire";
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

/** `/api/gaps` (reference 2.11): gap analysis from the database, acquisition through Prowlarr. */
export const gaps = new Hono<AppEnv>();

gaps.post("/analyze", async (c) => ok(c, await service.analyzeGaps(database(c))));

gaps.get("/missing", validate("query", missingQuery), async (c) => ok(c, await service.listGaps(database(c), c.req.valid("query"))));

gaps.get("/report", async (c) => ok(c, await service.gapReport(database(c))));

gaps.get("/history", validate("query", pageQuery), async (c) => ok(c, await service.gapHistory(database(c), c.req.valid("query"))));

gaps.delete("/reset-state", async (c) => ok(c, await service.resetGapState(database(c))));

const booleanFlag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]).default(false);
const acquireBody = z.object({ max_downloads: z.number().int().min(1).max(50).default(10), dry_run: z.boolean().default(false) }).strict();
const acquireQuery = z.object({ max_downloads: decimalInt(z.number().min(1).max(50)).default(10), dry_run: booleanFlag });

/** Prowlarr's search for this request (503 naming the bindings when it is not configured). */
function searchOf(config: Config): Search {
  const client = prowlarr(config);
  return (query) => client.search(query);
}

gaps.post("/acquire", validate("json", acquireBody), async (c) => {
  const body = c.req.valid("json");
  return ok(c, await acquire(database(c), searchOf(c.var.config), { maxDownloads: body.max_downloads, dryRun: body.dry_run }));
});

gaps.post("/analyze-and-acquire", validate("query", acquireQuery), async (c) => {
  const query = c.req.valid("query");
  const search = searchOf(c.var.config);
  const db = database(c);
  const analysis = await service.analyzeGaps(db);
  return ok(c, { analysis, acquisition: await acquire(db, search, { maxDownloads: query.max_downloads, dryRun: query.dry_run }) });
});
