import { createRoute } from "@hono/zod-openapi";
import { database } from "../db/client";
import { actorOf } from "../lib/actor";
import { created, ok } from "../lib/response";
import { idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import {
  archiveBook,
  bookMetadataHistory,
  booksInSeries,
  createBook,
  getBook,
  importBooks,
  incompleteBooks,
  listBooks,
  searchBooks,
  setMetadataSource,
  updateBook,
} from "../services/books";
import * as schemas from "./books.schemas";
import {
  bookCreate,
  bookImport,
  bookUpdate,
  incompleteQuery,
  listQuery,
  metadataSourceBody,
  searchQuery,
  seriesParam,
} from "./books.schemas";

/** /api/books. Static paths are registered before `/{id}`, so `/search` is never read as an id. */
export const books = router();

const tags = ["books"];
const notFound = errors({ 404: "No book has this id" });

books.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List books",
    description:
      "A page of the catalogue (active books by default, or another status, or all), newest first, optionally filtered by a text in title or author, a series, an author, missing metadata or missing files.",
    request: { query: listQuery },
    responses: { 200: success(schemas.bookPage, "A page of books") },
  }),
  async (c) => ok(c, await listBooks(database(c), c.req.valid("query"))),
);

books.openapi(
  createRoute({
    method: "get",
    path: "/search",
    tags,
    summary: "Search books",
    description:
      "Active books matching the text in title, author, series, narrator, ISBN or ASIN: exact matches first, then prefix matches, then the rest; `offset` pages through them (total_results counts every match, 0 on a page past the last).",
    request: { query: searchQuery },
    responses: { 200: success(schemas.searchResults, "The matches and how many there are in all") },
  }),
  async (c) => {
    const { query, limit, offset } = c.req.valid("query");
    return ok(c, await searchBooks(database(c), query, limit, offset));
  },
);

books.openapi(
  createRoute({
    method: "get",
    path: "/incomplete-metadata",
    tags,
    summary: "Books with incomplete metadata",
    description: "Active books below `threshold` percent complete (default 80), least complete first, with the fields they miss.",
    request: { query: incompleteQuery },
    responses: { 200: success(schemas.incompleteBooksSchema, "The incomplete books") },
  }),
  async (c) => {
    const { threshold, limit } = c.req.valid("query");
    return ok(c, await incompleteBooks(database(c), threshold, limit));
  },
);

books.openapi(
  createRoute({
    method: "get",
    path: "/series/{name}",
    tags,
    summary: "Books of a series by name",
    description: "Active books whose series is this name (trimmed, ignoring case), in series order; none when no book has it.",
    request: { params: seriesParam },
    responses: { 200: success(schemas.seriesBooks, "The series' books") },
  }),
  async (c) => ok(c, await booksInSeries(database(c), c.req.valid("param").name)),
);

books.openapi(
  createRoute({
    method: "post",
    path: "/import",
    tags,
    summary: "Import books",
    description:
      "Creates or updates 1 to 1000 books by abs_id, all or nothing: fields sent replace stored ones, unchanged rows are not written, every change is recorded as a correction, and completion is recomputed for every series and author touched.",
    request: { body: jsonBody(bookImport, "1 to 1000 books, each with its abs_id (at most 5 MB)") },
    responses: { 200: success(schemas.importResult, "How many books were created, updated and unchanged") },
  }),
  async (c) => ok(c, await importBooks(database(c), c.req.valid("json"), actorOf(c.var.identity))),
);

books.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Add a book",
    description: "Adds a book to the catalogue; its completeness is computed, and its series and author are recounted.",
    request: { body: jsonBody(bookCreate) },
    responses: {
      201: success(schemas.bookCreated, "The new book's id and completeness"),
      ...errors({ 409: "Another book has this abs_id" }),
    },
  }),
  async (c) => created(c, await createBook(database(c), c.req.valid("json"))),
);

books.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a book",
    description: "Every field of the book, its metadata sources included.",
    request: { params: idParam },
    responses: { 200: success(schemas.bookSchema, "The book"), ...notFound },
  }),
  async (c) => ok(c, await getBook(database(c), c.req.valid("param").id)),
);

books.openapi(
  createRoute({
    method: "put",
    path: "/{id}",
    tags,
    summary: "Change a book",
    description:
      "Writes the fields sent that differ from the stored ones, records each change as a correction (source and reason as sent), and answers what changed.",
    request: { params: idParam, body: jsonBody(bookUpdate) },
    responses: { 200: success(schemas.bookUpdated, "What changed and the new completeness"), ...notFound },
  }),
  async (c) => ok(c, await updateBook(database(c), c.req.valid("param").id, c.req.valid("json"), actorOf(c.var.identity))),
);

books.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Archive a book",
    description: "Soft delete: the book stays with status archived and stops counting towards its series and author.",
    request: { params: idParam },
    responses: { 200: success(schemas.bookArchived, "The book is archived"), ...notFound },
  }),
  async (c) => ok(c, await archiveBook(database(c), c.req.valid("param").id)),
);

books.openapi(
  createRoute({
    method: "get",
    path: "/{id}/metadata-history",
    tags,
    summary: "Corrections of a book",
    description: "The book's recorded field changes, newest first (at most 50), and how many it has in all.",
    request: { params: idParam },
    responses: { 200: success(schemas.bookHistory, "The book's corrections"), ...notFound },
  }),
  async (c) => ok(c, await bookMetadataHistory(database(c), c.req.valid("param").id)),
);

books.openapi(
  createRoute({
    method: "put",
    path: "/{id}/metadata-source",
    tags,
    summary: "Record a field's source",
    description: "Records which source supplied one metadata field of the book.",
    request: { params: idParam, body: jsonBody(metadataSourceBody) },
    responses: { 200: success(schemas.sourceSet, "The book's metadata sources"), ...notFound },
  }),
  async (c) => {
    const { field_name, source } = c.req.valid("json");
    return ok(c, await setMetadataSource(database(c), c.req.valid("param").id, field_name, source));
  },
);
