import { Hono } from "hono";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { actorOf } from "../lib/actor";
import { created, ok } from "../lib/response";
import { idParam, validate } from "../lib/validate";
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

/** /api/books. Static paths are registered before `/:id`, so `/search` is never read as an id. */
export const books = new Hono<AppEnv>();

books.get("/", validate("query", listQuery), async (c) => ok(c, await listBooks(database(c), c.req.valid("query"))));

books.get("/search", validate("query", searchQuery), async (c) => {
  const { query, limit } = c.req.valid("query");
  return ok(c, await searchBooks(database(c), query, limit));
});

books.get("/incomplete-metadata", validate("query", incompleteQuery), async (c) => {
  const { threshold, limit } = c.req.valid("query");
  return ok(c, await incompleteBooks(database(c), threshold, limit));
});

books.get("/series/:name", validate("param", seriesParam), async (c) => ok(c, await booksInSeries(database(c), c.req.valid("param").name)));

books.post("/import", validate("json", bookImport), async (c) =>
  ok(c, await importBooks(database(c), c.req.valid("json"), actorOf(c.var.identity))),
);

books.post("/", validate("json", bookCreate), async (c) => created(c, await createBook(database(c), c.req.valid("json"))));

books.get("/:id", validate("param", idParam), async (c) => ok(c, await getBook(database(c), c.req.valid("param").id)));

books.put("/:id", validate("param", idParam), validate("json", bookUpdate), async (c) =>
  ok(c, await updateBook(database(c), c.req.valid("param").id, c.req.valid("json"), actorOf(c.var.identity))),
);

books.delete("/:id", validate("param", idParam), async (c) => ok(c, await archiveBook(database(c), c.req.valid("param").id)));

books.get("/:id/metadata-history", validate("param", idParam), async (c) =>
  ok(c, await bookMetadataHistory(database(c), c.req.valid("param").id)),
);

books.put("/:id/metadata-source", validate("param", idParam), validate("json", metadataSourceBody), async (c) => {
  const { field_name, source } = c.req.valid("json");
  return ok(c, await setMetadataSource(database(c), c.req.valid("param").id, field_name, source));
});
