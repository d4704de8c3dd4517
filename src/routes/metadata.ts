import { Hono } from "hono";
import { z } from "zod";
import { type Config, requireService } from "../config";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { GoogleBooks } from "../integrations/google-books";
import { actorOf } from "../lib/actor";
import { ok } from "../lib/response";
import { decimalInt, validate } from "../lib/validate";
import { incompleteBooks } from "../services/books";
import { cleanupOldCorrections, correctionHistory, correctionsBySource, metadataStatus } from "../services/metadata";
import { correctBook, correctMany } from "../services/metadata-correction";
import { incompleteQuery } from "./books.schemas";

const bookIdParam = z.object({ book_id: decimalInt(z.number().positive()) });
const daysQuery = z.object({ days: decimalInt(z.number().min(1).max(365)).default(30) });

/** /api/metadata: correction history and metadata quality (reference 2.7, 6.6). */
export const metadata = new Hono<AppEnv>();

/** A book's corrections, newest first; an unknown book has none (no 404, as in the original). */
metadata.get("/history/:book_id", validate("param", bookIdParam), async (c) => {
  const { book_id } = c.req.valid("param");
  return ok(c, { book_id, ...(await correctionHistory(database(c), book_id)) });
});

metadata.get("/by-source", validate("query", daysQuery), async (c) =>
  ok(c, await correctionsBySource(database(c), c.req.valid("query").days)),
);

metadata.get("/incomplete", validate("query", incompleteQuery), async (c) => {
  const { threshold, limit } = c.req.valid("query");
  return ok(c, await incompleteBooks(database(c), threshold, limit));
});

metadata.get("/status", async (c) => ok(c, await metadataStatus(database(c))));

metadata.delete("/cleanup-old", validate("query", daysQuery), async (c) =>
  ok(c, await cleanupOldCorrections(database(c), c.req.valid("query").days)),
);

// ---------------------------------------------------------------------------------------------
// Correction from Google Books (INTEGRATIONS.md section 3)
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

metadata.post("/correct-book", validate("json", correctBookBody), async (c) => {
  const { book_id, force } = c.req.valid("json");
  return ok(c, await correctBook(database(c), googleBooks(c.var.config), book_id, force, actorOf(c.var.identity)));
});

metadata.post("/correct-all", validate("query", correctAllQuery), async (c) => {
  const { completeness_threshold, limit } = c.req.valid("query");
  const google = googleBooks(c.var.config);
  return ok(c, await correctMany(database(c), google, { threshold: completeness_threshold, limit }, actorOf(c.var.identity)));
});

metadata.post("/correct-recent", validate("query", correctRecentQuery), async (c) => {
  const { days, limit } = c.req.valid("query");
  const google = googleBooks(c.var.config);
  return ok(c, await correctMany(database(c), google, { addedWithinDays: days, limit }, actorOf(c.var.identity)));
});
