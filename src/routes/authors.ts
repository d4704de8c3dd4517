import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { database } from "../db/client";
import { BOOK_STATUSES, COMPLETION_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, hasSomeField, knownTotal, name, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import * as service from "../services/authors";
import * as schemas from "./authors.schemas";

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

/** `/api/authors`. Static paths come before `/{id}`. */
export const authors = router();

const tags = ["authors"];
const notFound = errors({ 404: "No author has this id" });
const duplicate = errors({ 409: "Another author already has this name (names are unique ignoring case)" });

authors.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List authors",
    description: "A page of the tracked authors, most audiobooks owned first, optionally only those with one completion status.",
    request: { query: listQuery },
    responses: { 200: success(schemas.authorPage, "A page of authors") },
  }),
  async (c) => ok(c, await service.listAuthors(database(c), c.req.valid("query"))),
);

authors.openapi(
  createRoute({
    method: "get",
    path: "/favorites",
    tags,
    summary: "Favorite authors",
    description: `Authors with at least min_books owned audiobooks (default ${service.FAVORITE_MIN_BOOKS}), most owned first.`,
    request: { query: favoritesQuery },
    responses: { 200: success(schemas.favoriteAuthorsSchema, "The favorite authors and how many there are") },
  }),
  async (c) => ok(c, await service.favoriteAuthors(database(c), c.req.valid("query"))),
);

authors.openapi(
  createRoute({
    method: "get",
    path: "/completion-summary",
    tags,
    summary: "Completion summary of all authors",
    description:
      "How many authors are complete, partial and incomplete, how many are favorites, the average completion and the audiobooks owned and missing.",
    responses: { 200: success(schemas.authorSummary, "Counts and totals over every author") },
  }),
  async (c) => ok(c, await service.authorCompletionSummary(database(c))),
);

authors.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Track an author",
    description: "Adds an author. The completion is computed at once from the owned books by the same name.",
    request: { body: jsonBody(createBody) },
    responses: { 201: success(schemas.authorWritten, "The author as stored"), ...duplicate },
  }),
  async (c) => created(c, await service.createAuthor(database(c), c.req.valid("json"))),
);

authors.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get an author with their books",
    description: "The author and their books, by series and number.",
    request: { params: idParam },
    responses: { 200: success(schemas.authorDetail, "The author and their books"), ...notFound },
  }),
  async (c) => ok(c, await service.getAuthor(database(c), c.req.valid("param").id)),
);

authors.openapi(
  createRoute({
    method: "put",
    path: "/{id}",
    tags,
    summary: "Change an author",
    description: "Writes the fields sent that differ from the stored ones and answers what changed; a change recomputes the completion.",
    request: { params: idParam, body: jsonBody(updateBody) },
    responses: { 200: success(schemas.authorUpdated, "The author as stored, with changes_made"), ...notFound, ...duplicate },
  }),
  async (c) => ok(c, await service.updateAuthor(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

authors.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Stop tracking an author",
    description: "Deletes the author. Their books stay in the catalogue.",
    request: { params: idParam },
    responses: { 200: success(schemas.authorDeleted, "Which author was deleted"), ...notFound },
  }),
  async (c) => ok(c, await service.deleteAuthor(database(c), c.req.valid("param").id)),
);

authors.openapi(
  createRoute({
    method: "get",
    path: "/{id}/books",
    tags,
    summary: "Books of an author",
    description: "The author's books, optionally only those with one status, by series and number.",
    request: { params: idParam, query: booksQuery },
    responses: { 200: success(schemas.authorBooksSchema, "The author's books"), ...notFound },
  }),
  async (c) => ok(c, await service.authorBooks(database(c), c.req.valid("param").id, c.req.valid("query").status)),
);

authors.openapi(
  createRoute({
    method: "get",
    path: "/{id}/completion",
    tags,
    summary: "Stored completion of an author",
    description: "The completion as last computed, without recomputing it.",
    request: { params: idParam },
    responses: { 200: success(schemas.authorCompletionSchema, "The author's completion"), ...notFound },
  }),
  async (c) => ok(c, await service.authorCompletion(database(c), c.req.valid("param").id)),
);

authors.openapi(
  createRoute({
    method: "put",
    path: "/{id}/recalculate-completion",
    tags,
    summary: "Recompute an author's completion",
    description: "Counts the owned books again and stores the completion; answers the new figures.",
    request: { params: idParam },
    responses: { 200: success(schemas.authorRecalculated, "The recomputed completion"), ...notFound },
  }),
  async (c) => ok(c, await service.recalculateAuthor(database(c), c.req.valid("param").id)),
);
