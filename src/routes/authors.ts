import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { BOOK_STATUSES, COMPLETION_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, hasSomeField, knownTotal, name, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam, validate } from "../lib/validate";
import * as service from "../services/authors";

/**
 * The original named the known total `total_books` on create and `total_books_authored` on
 * update; the column is `total_audiobooks_external`. All three are accepted, one at a time.
 */
const TOTAL = ["total_audiobooks_external", "total_books", "total_books_authored"] as const;
const fields = {
  goodreads_id: optionalText(255),
  google_books_id: optionalText(255),
  hardcover_id: optionalText(255),
  mam_author_id: optionalText(255),
  total_audiobooks_external: knownTotal,
  total_books: knownTotal,
  total_books_authored: knownTotal,
};

const createBody = z
  .strictObject({ name, ...fields })
  .superRefine(atMostOneOf(TOTAL))
  .transform((body) => foldAliases(body, "total_audiobooks_external", ["total_books", "total_books_authored"]));

const updateBody = z
  .strictObject({ name: name.optional(), ...fields })
  .refine(hasSomeField, "Send at least one field to change")
  .superRefine(atMostOneOf(TOTAL))
  .transform((body) => foldAliases(body, "total_audiobooks_external", ["total_books", "total_books_authored"]));

const listQuery = pageQuery.extend({ completion_status: z.enum(COMPLETION_STATUSES).optional() });
const favoritesQuery = z.object({
  min_books: decimalInt(z.number().min(1).max(100_000)).default(service.FAVORITE_MIN_BOOKS),
  limit: decimalInt(z.number().min(1).max(500)).default(100),
});
const booksQuery = z.object({ status: z.enum(BOOK_STATUSES).optional() });

/** `/api/authors` (reference 2.5, with the routes working as intended). Static paths come before `/:id`. */
export const authors = new Hono<AppEnv>();

authors.get("/", validate("query", listQuery), async (c) => ok(c, await service.listAuthors(database(c), c.req.valid("query"))));

authors.get("/favorites", validate("query", favoritesQuery), async (c) =>
  ok(c, await service.favoriteAuthors(database(c), c.req.valid("query"))),
);

authors.get("/completion-summary", async (c) => ok(c, await service.authorCompletionSummary(database(c))));

authors.post("/", validate("json", createBody), async (c) => created(c, await service.createAuthor(database(c), c.req.valid("json"))));

authors.get("/:id", validate("param", idParam), async (c) => ok(c, await service.getAuthor(database(c), c.req.valid("param").id)));

authors.put("/:id", validate("param", idParam), validate("json", updateBody), async (c) =>
  ok(c, await service.updateAuthor(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

authors.delete("/:id", validate("param", idParam), async (c) => ok(c, await service.deleteAuthor(database(c), c.req.valid("param").id)));

authors.get("/:id/books", validate("param", idParam), validate("query", booksQuery), async (c) =>
  ok(c, await service.authorBooks(database(c), c.req.valid("param").id, c.req.valid("query").status)),
);

authors.get("/:id/completion", validate("param", idParam), async (c) =>
  ok(c, await service.authorCompletion(database(c), c.req.valid("param").id)),
);

authors.put("/:id/recalculate-completion", validate("param", idParam), async (c) =>
  ok(c, await service.recalculateAuthor(database(c), c.req.valid("param").id)),
);
