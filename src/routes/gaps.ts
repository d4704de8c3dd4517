import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { type Config, MAX_DOWNLOADS_PER_RUN } from "../config";
import { database } from "../db/client";
import { GAP_DOWNLOAD_STATUSES, GAP_REASONS } from "../db/schema";
import { prowlarr } from "../integrations/prowlarr";
import { actorOf } from "../lib/actor";
import { pageQuery } from "../lib/pagination";
import { ok } from "../lib/response";
import { decimalInt, idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import { acquisitionOutcome, analysisOutcome, recordedRun } from "../scheduler";
import { acquire, type Search } from "../services/acquire";
import { prowlarrUrlOf } from "../services/downloads/links";
import * as service from "../services/gaps";
import * as schemas from "./gaps.schemas";

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

/** A gap set by hand: its title, and optionally its ASIN (Audible's ten letters and digits) and release date. */
const byHandBody = z.strictObject({
  title: name.meta({ description: "The missing book's title, as acquisition searches for it" }),
  asin: z
    .string()
    .trim()
    .regex(/^[A-Z0-9]{10}$/, "An ASIN is 10 capital letters and digits")
    .nullable()
    .optional()
    .meta({ description: "Its Audible ASIN; null clears it" }),
  release_date: z.iso.date().nullable().optional().meta({ description: "YYYY-MM-DD; not searched for before it; null clears it" }),
});

/** `/api/gaps`: gap analysis from the database, acquisition through Prowlarr. */
export const gaps = router();

const tags = ["gaps"];

gaps.openapi(
  createRoute({
    method: "post",
    path: "/analyze",
    tags,
    summary: "Find the gaps in the library",
    description:
      "Recounts every series and author, then records each missing position of every series with a known total as a gap; resolves gaps a book now fills and reopens those whose book is gone. Answers the run.",
    responses: { 200: success(schemas.analysis, "The run and its figures") },
  }),
  async (c) => {
    const db = database(c);
    // Recorded as a GAPS run, so the schedule and the overview show it beside the scheduled ones.
    return ok(c, await recordedRun(db, "GAPS", actorOf(c.var.identity), () => service.analyzeGaps(db), analysisOutcome));
  },
);

gaps.openapi(
  createRoute({
    method: "get",
    path: "/missing",
    tags,
    summary: "List the gaps",
    description: "A page of missing books, by priority, filtered by series, author, download status, reason or resolved.",
    request: { query: missingQuery },
    responses: { 200: success(schemas.gapPage, "A page of missing books") },
  }),
  async (c) => ok(c, await service.listGaps(database(c), c.req.valid("query"))),
);

gaps.openapi(
  createRoute({
    method: "put",
    path: "/missing/{id}",
    tags,
    summary: "Set a gap's title by hand",
    description:
      "Sets a missing book's title (and, when sent, its ASIN and release date) by hand: title_source becomes `hand`, dated now. Gap analysis and the catalogue refresh never replace a title set by hand; acquisition searches for it.",
    request: { params: idParam, body: jsonBody(byHandBody) },
    responses: {
      200: success(schemas.gapSchema, "The gap as stored"),
      ...errors({ 404: "No missing book has this id", 409: "The author already has a new release with this title" }),
    },
  }),
  async (c) => ok(c, await service.setGapByHand(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

gaps.openapi(
  createRoute({
    method: "get",
    path: "/report",
    tags,
    summary: "Last gap analysis",
    description: "The last run with its figures.",
    responses: { 200: success(schemas.gapRun, "The last run"), ...errors({ 404: "No gap analysis has run yet" }) },
  }),
  async (c) => ok(c, await service.gapReport(database(c))),
);

gaps.openapi(
  createRoute({
    method: "get",
    path: "/history",
    tags,
    summary: "Gap analysis runs",
    description: "A page of every recorded run, newest first.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.runPage, "A page of runs") },
  }),
  async (c) => ok(c, await service.gapHistory(database(c), c.req.valid("query"))),
);

gaps.openapi(
  createRoute({
    method: "delete",
    path: "/reset-state",
    tags,
    summary: "Forget past runs",
    description: "Deletes the recorded analysis runs (the gaps stay).",
    responses: { 200: success(schemas.resetResult, "How many runs were deleted") },
  }),
  async (c) => ok(c, await service.resetGapState(database(c))),
);

const booleanFlag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]).default(false);
/**
 * Downloads one call may queue (at most 30 Prowlarr searches, as ACQUIRE_MAX_PER_RUN); the download
 * tier (20 calls an hour) bounds the rest. More gaps: call again, or let ACQUIRE run.
 */
const maxDownloads = z.number().int().min(1).max(MAX_DOWNLOADS_PER_RUN);
const acquireBody = z
  .object({
    max_downloads: maxDownloads.default(5),
    dry_run: z.boolean().default(false),
    series_id: z.number().int().positive().optional().meta({ description: "Only this series' gaps" }),
    missing_book_ids: z.array(z.number().int().positive()).min(1).max(100).optional().meta({ description: "Only these gaps" }),
  })
  .strict();
const acquireQuery = z.object({ max_downloads: decimalInt(maxDownloads).default(5), dry_run: booleanFlag });

/** Prowlarr's search for this request (503 naming the bindings when it is not configured). */
function searchOf(config: Config): Search {
  const client = prowlarr(config);
  return (query) => client.search(query);
}

gaps.openapi(
  createRoute({
    method: "post",
    path: "/acquire",
    tags,
    summary: "Queue downloads for the gaps",
    description:
      "Searches Prowlarr for open gaps (all, one series' with series_id, or chosen ones with missing_book_ids), most important first, by the wanted title and the author, and queues the best matching release of each, up to max_downloads (default 5, at most 10; up to 3 Prowlarr searches each). One run never sends the same query twice. With dry_run, answers per gap the wanted title and its source, the query and every ranked release with its reason, queuing nothing.",
    request: { body: jsonBody(acquireBody) },
    responses: {
      200: success(schemas.acquisition, "What was queued and skipped"),
      ...errors({ 404: "No such series", 502: "Prowlarr failed before anything was queued", 503: "Prowlarr is not configured" }),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const [db, search] = [database(c), searchOf(c.var.config)];
    const work = () =>
      acquire(db, search, {
        maxDownloads: body.max_downloads,
        dryRun: body.dry_run,
        prowlarrUrl: prowlarrUrlOf(c.var.config),
        language: c.var.config.upstream.releaseLanguage,
        seriesId: body.series_id,
        missingBookIds: body.missing_book_ids,
      });
    // A real acquisition is recorded as an ACQUIRE run (a dry run queues nothing and is not a run).
    return ok(c, body.dry_run ? await work() : await recordedRun(db, "ACQUIRE", actorOf(c.var.identity), work, acquisitionOutcome));
  },
);

gaps.openapi(
  createRoute({
    method: "post",
    path: "/analyze-and-acquire",
    tags,
    summary: "Find the gaps, then queue downloads",
    description: "A gap analysis followed by an acquisition, as the scheduled task runs them.",
    request: { query: acquireQuery },
    responses: {
      200: success(schemas.analyzeAndAcquire, "The analysis and the acquisition"),
      ...errors({ 502: "Prowlarr failed before anything was queued", 503: "Prowlarr is not configured" }),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const search = searchOf(c.var.config);
    const db = database(c);
    const analysis = await service.analyzeGaps(db);
    return ok(c, {
      analysis,
      acquisition: await acquire(db, search, {
        maxDownloads: query.max_downloads,
        dryRun: query.dry_run,
        prowlarrUrl: prowlarrUrlOf(c.var.config),
        language: c.var.config.upstream.releaseLanguage,
      }),
    });
  },
);
