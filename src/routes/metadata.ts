import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { ok } from "../lib/response";
import { decimalInt, validate } from "../lib/validate";
import { incompleteBooks } from "../services/books";
import { cleanupOldCorrections, correctionHistory, correctionsBySource, metadataStatus } from "../services/metadata";
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
