import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { type Config, requireService } from "../config";
import { database } from "../db/client";
import { GoogleBooks } from "../integrations/google-books";
import { actorOf } from "../lib/actor";
import { ok } from "../lib/response";
import { decimalInt } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import { recordedRun } from "../scheduler";
import { incompleteBooks } from "../services/books";
import { cleanupOldCorrections, correctionHistory, correctionsBySource, metadataStatus } from "../services/metadata";
import { correctBook, correctionOutcome, correctMany } from "../services/metadata-correction";
import { incompleteBooksSchema, incompleteQuery } from "./books.schemas";
import * as schemas from "./metadata.schemas";

const bookIdParam = z.object({ book_id: decimalInt(z.number().positive()) });
const daysQuery = z.object({ days: decimalInt(z.number().min(1).max(365)).default(30) });

/** /api/metadata: correction history and metadata quality. */
export const metadata = router();

const tags = ["metadata"];

metadata.openapi(
  createRoute({
    method: "get",
    path: "/history/{book_id}",
    tags,
    summary: "Corrections of a book",
    description:
      "The book's recorded field changes, newest first (at most 50), and how many it has in all. An unknown book has none (no 404, as in the original).",
    request: { params: bookIdParam },
    responses: { 200: success(schemas.bookCorrections, "The book's corrections") },
  }),
  async (c) => {
    const { book_id } = c.req.valid("param");
    return ok(c, { book_id, ...(await correctionHistory(database(c), book_id)) });
  },
);

metadata.openapi(
  createRoute({
    method: "get",
    path: "/by-source",
    tags,
    summary: "Corrections per source",
    description: "How many corrections each source made in the last `days` days (default 30).",
    request: { query: daysQuery },
    responses: { 200: success(schemas.bySource, "Counts per source") },
  }),
  async (c) => ok(c, await correctionsBySource(database(c), c.req.valid("query").days)),
);

metadata.openapi(
  createRoute({
    method: "get",
    path: "/incomplete",
    tags,
    summary: "Books with incomplete metadata",
    description: "Active books below `threshold` percent complete (default 80), least complete first, with the fields they miss.",
    request: { query: incompleteQuery },
    responses: { 200: success(incompleteBooksSchema, "The incomplete books") },
  }),
  async (c) => {
    const { threshold, limit } = c.req.valid("query");
    return ok(c, await incompleteBooks(database(c), threshold, limit));
  },
);

metadata.openapi(
  createRoute({
    method: "get",
    path: "/status",
    tags,
    summary: "Metadata quality",
    description:
      "Average completeness of the active library, books per quality band, and corrections per source (all time and the last 7 days).",
    responses: { 200: success(schemas.metadataStatusSchema, "The library's metadata quality") },
  }),
  async (c) => ok(c, await metadataStatus(database(c))),
);

metadata.openapi(
  createRoute({
    method: "delete",
    path: "/cleanup-old",
    tags,
    summary: "Delete old corrections",
    description: "Deletes correction records older than `days` days (default 30), as the retention task does.",
    request: { query: daysQuery },
    responses: { 200: success(schemas.cleanupResult, "How many were deleted") },
  }),
  async (c) => ok(c, await cleanupOldCorrections(database(c), c.req.valid("query").days)),
);

// ---------------------------------------------------------------------------------------------
// Correction from Google Books (src/integrations/google-books.ts)
// ---------------------------------------------------------------------------------------------

const correctBookBody = z.strictObject({ book_id: z.number().int().positive(), force: z.boolean().default(false) });
const correctAllQuery = z.object({
  completeness_threshold: decimalInt(z.number().min(1).max(100)).default(80),
  limit: decimalInt(z.number().min(1).max(500)).default(100),
});
const correctRecentQuery = z.object({
  days: decimalInt(z.number().min(1).max(30)).default(7),
  limit: decimalInt(z.number().min(1).max(500)).default(100),
});

function googleBooks(config: Config): GoogleBooks {
  return new GoogleBooks(requireService(config, "google_books"), config.upstream);
}

metadata.openapi(
  createRoute({
    method: "post",
    path: "/correct-book",
    tags,
    summary: "Fill a book's empty fields from Google Books",
    description:
      "Looks the book up on Google Books and fills its empty author, ISBN, publisher, year and description; each filled field is recorded as a correction. Refused (409) when the book changed in the last 24 hours, unless `force`.",
    request: { body: jsonBody(correctBookBody) },
    responses: {
      200: success(schemas.bookCorrection, "What was filled"),
      ...errors({
        404: "No book has this id",
        409: "The book changed in the last 24 hours; send force: true",
        503: "Google Books is not configured, or today's call budget is spent",
      }),
      ...errors({ 502: "Google Books failed or answered wrongly" }),
    },
  }),
  async (c) => {
    const { book_id, force } = c.req.valid("json");
    return ok(c, await correctBook(database(c), googleBooks(c.var.config), book_id, force, actorOf(c.var.identity)));
  },
);

metadata.openapi(
  createRoute({
    method: "post",
    path: "/correct-all",
    tags,
    summary: "Fill empty fields of the least complete books",
    description:
      "Corrects up to `limit` active books below `completeness_threshold` percent, least complete first, skipping books changed in the last 24 hours. Stops cleanly when the daily budget is spent or Google Books fails (see stopped_reason).",
    request: { query: correctAllQuery },
    responses: { 200: success(schemas.correctionRun, "What the run did"), ...errors({ 503: "Google Books is not configured" }) },
  }),
  async (c) => {
    const { completeness_threshold, limit } = c.req.valid("query");
    const google = googleBooks(c.var.config);
    const [db, actor] = [database(c), actorOf(c.var.identity)];
    // Recorded as a METADATA_FULL run, so the schedule and the overview show it beside the scheduled ones.
    const work = () => correctMany(db, google, { threshold: completeness_threshold, limit }, actor);
    return ok(c, await recordedRun(db, "METADATA_FULL", actor, work, correctionOutcome));
  },
);

metadata.openapi(
  createRoute({
    method: "post",
    path: "/correct-recent",
    tags,
    summary: "Fill empty fields of recently added books",
    description: "Corrects up to `limit` active books added in the last `days` days, least complete first, as correct-all does.",
    request: { query: correctRecentQuery },
    responses: { 200: success(schemas.correctionRun, "What the run did"), ...errors({ 503: "Google Books is not configured" }) },
  }),
  async (c) => {
    const { days, limit } = c.req.valid("query");
    const google = googleBooks(c.var.config);
    const [db, actor] = [database(c), actorOf(c.var.identity)];
    // Recorded as a METADATA_NEW run, as correct-all is as METADATA_FULL.
    const work = () => correctMany(db, google, { addedWithinDays: days, limit }, actor);
    return ok(c, await recordedRun(db, "METADATA_NEW", actor, work, correctionOutcome));
  },
);
