import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books } from "../../src/db/schema";
import { createBook, createSeries, unique } from "../fixtures";
import { call, errorShape } from "../helpers";

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

type Json = Record<string, any>;

async function send(method: string, path: string, json?: unknown) {
  const res = await call(path, { method, auth: true, ...(json === undefined ? {} : { json }) });
  return { status: res.status, headers: res.headers, body: await res.json<Json>() };
}
const get = (path: string) => send("GET", path);

/** Sends `json` and expects a 422 naming `path` with `code`. */
async function expect422(method: string, path: string, json: unknown, errorPath: string, code: string) {
  const { status, body } = await send(method, path, json);
  expect(status, JSON.stringify(body)).toBe(422);
  expect(body).toMatchObject(errorShape(422, "validation_error"));
  expect(body.errors, JSON.stringify(body.errors)).toContainEqual({ path: errorPath, message: expect.any(String), code });
}

async function corrections(bookId: number) {
  const { results } = await env.DB.prepare(
    "SELECT field_name, old_value, new_value, source, reason, corrected_by FROM metadata_corrections WHERE book_id = ? ORDER BY id",
  )
    .bind(bookId)
    .all<Json>();
  return results;
}

const FULL = {
  abs_id: "",
  title: "The Way of Kings",
  author: "Brandon Sanderson",
  series: "",
  series_number: "1",
  narrator: "Michael Kramer",
  isbn: "9780765326355",
  asin: "B003P2WO5E",
  publisher: "Macmillan Audio",
  published_year: 2010,
  duration_minutes: 2729,
  description: "Roshar is a world of stone and storms.",
  import_source: "user_import",
  metadata_source: { title: "Manual" },
};

describe("POST /api/books", () => {
  it("creates a book (201) and answers its id, title, author and completeness", async () => {
    const title = unique("Mistborn");
    const { status, body } = await send("POST", "/api/books", { title, author: "Brandon Sanderson", series: unique("Mistborn") });
    expect(status).toBe(201);
    expect(body).toEqual({
      success: true,
      error: null,
      timestamp: ISO,
      data: { book_id: expect.any(Number), title, author: "Brandon Sanderson", metadata_completeness_percent: 30 },
    });
  });

  it("stores every field trimmed, blank optional fields as no value, and the timestamps", async () => {
    const absId = unique("abs");
    const series = unique("Stormlight");
    const { body } = await send("POST", "/api/books", {
      ...FULL,
      abs_id: ` ${absId} `,
      title: `  ${FULL.title}  `,
      series,
      publisher: "   ",
    });
    expect(body.data.metadata_completeness_percent).toBe(90);
    const book = await get(`/api/books/${body.data.book_id}`);
    expect(book.status).toBe(200);
    expect(book.body.data).toEqual({
      ...FULL,
      id: body.data.book_id,
      abs_id: absId,
      series,
      publisher: null,
      metadata_completeness_percent: 90,
      last_metadata_update: ISO,
      date_added: ISO,
      date_updated: ISO,
      status: "active",
      files_missing: false,
      quality_score: null,
      mam_rule_version: null,
      duplicate_status: "none",
      subtitle: null,
      genres: [],
      additional_series: [],
    });
    expect(book.body.data.last_metadata_update).toBe(book.body.data.date_added);
  });

  it("computes completeness from the 10 metadata fields (narrator does not count)", async () => {
    expect((await createBook({ narrator: "Someone" })).metadata_completeness_percent).toBe(10);
    const all = await createBook({ ...FULL, abs_id: unique("abs"), series: unique("s") });
    expect(all.metadata_completeness_percent).toBe(100);
    const zeroes = await createBook({ published_year: 0, duration_minutes: 0 });
    expect(zeroes.metadata_completeness_percent).toBe(30);
  });

  it("answers 409 duplicate_resource for a taken abs_id", async () => {
    const absId = unique("abs");
    await createBook({ abs_id: absId });
    const { status, body } = await send("POST", "/api/books", { title: "Again", abs_id: absId });
    expect(status).toBe(409);
    expect(body).toMatchObject({ ...errorShape(409, "duplicate_resource"), detail: `Book with abs_id ${absId} already exists` });
  });

  it("answers 422 for each kind of bad input", async () => {
    await expect422("POST", "/api/books", { author: "No title" }, "body.title", "invalid_type");
    await expect422("POST", "/api/books", { title: "   " }, "body.title", "too_small");
    await expect422("POST", "/api/books", { title: "x".repeat(501) }, "body.title", "too_big");
    await expect422("POST", "/api/books", { title: "T", published_year: "2001" }, "body.published_year", "invalid_type");
    await expect422("POST", "/api/books", { title: "T", published_year: 3001 }, "body.published_year", "too_big");
    await expect422("POST", "/api/books", { title: "T", published_year: 2001.5 }, "body.published_year", "invalid_type");
    await expect422("POST", "/api/books", { title: "T", duration_minutes: -1 }, "body.duration_minutes", "too_small");
    await expect422("POST", "/api/books", { title: "T", series_number: "x".repeat(51) }, "body.series_number", "too_big");
    await expect422("POST", "/api/books", { title: "T", description: "x".repeat(20_001) }, "body.description", "too_big");
    await expect422("POST", "/api/books", { title: "T", metadata_source: { title: 1 } }, "body.metadata_source.title", "invalid_type");
    await expect422("POST", "/api/books", { title: "T", titel: "typo" }, "body", "unrecognized_keys");
    await expect422("POST", "/api/books", [{ title: "T" }], "body", "invalid_type");
  });

  it("moves the completion of the book's series", async () => {
    const series = await createSeries({ total_books_in_series: 4 });
    const name = series.name as string;
    const owned = async () =>
      (await env.DB.prepare("SELECT books_owned, completion_percentage FROM series WHERE id = ?").bind(series.series_id).first<Json>())!;
    expect(await owned()).toEqual({ books_owned: 0, completion_percentage: 0 });
    // Matched trimmed and case-insensitively.
    await createBook({ series: ` ${name.toUpperCase()} ` });
    expect(await owned()).toEqual({ books_owned: 1, completion_percentage: 25 });
    const second = await createBook({ series: name });
    expect(await owned()).toEqual({ books_owned: 2, completion_percentage: 50 });
    await send("DELETE", `/api/books/${second.book_id}`);
    expect(await owned()).toEqual({ books_owned: 1, completion_percentage: 25 });
  });
});

describe("GET /api/books/:id", () => {
  it("answers 404 not_found for a missing book and 422 for an id that is not a positive integer", async () => {
    const missing = await get("/api/books/999999999");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ ...errorShape(404, "not_found"), detail: "Book not found: 999999999" });
    for (const id of ["abc", "0", "-1", "1.5"]) {
      const { status, body } = await get(`/api/books/${id}`);
      expect(status, id).toBe(422);
      expect(body.errors[0]).toMatchObject({ path: "path.id" });
    }
  });

  it("needs credentials", async () => {
    const res = await call("/api/books/1");
    expect(res.status).toBe(401);
  });
});

describe("GET /api/books", () => {
  it("lists active books newest first, with total and page_info, filtered by search", async () => {
    const tag = unique("lst");
    const a = await createBook({ title: `${tag} one` });
    const b = await createBook({ title: "two", author: `${tag.toUpperCase()} Author` });
    const c = await createBook({ title: `three ${tag}` });
    const archived = await createBook({ title: `${tag} archived` });
    await send("DELETE", `/api/books/${archived.book_id}`);

    const first = await get(`/api/books?search=${tag}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data.total).toBe(3);
    expect(first.body.data.page_info).toEqual({ limit: 2, offset: 0, has_more: true });
    expect(first.body.data.books.map((x: Json) => x.id)).toEqual([c.book_id, b.book_id]);
    expect(first.body.data.books[0]).toEqual({
      id: c.book_id,
      abs_id: null,
      title: `three ${tag}`,
      author: null,
      series: null,
      series_number: null,
      narrator: null,
      published_year: null,
      metadata_completeness_percent: 10,
      last_metadata_update: ISO,
      status: "active",
      files_missing: false,
      date_added: ISO,
    });

    const second = await get(`/api/books?search=${tag}&limit=2&offset=2`);
    expect(second.body.data.books.map((x: Json) => x.id)).toEqual([a.book_id]);
    expect(second.body.data.page_info).toEqual({ limit: 2, offset: 2, has_more: false });

    const all = await get(`/api/books?search=${tag.toUpperCase()}&status=all`);
    expect(all.body.data.total).toBe(4);
    const onlyArchived = await get(`/api/books?search=${tag}&status=archived`);
    expect(onlyArchived.body.data.books.map((x: Json) => x.id)).toEqual([archived.book_id]);
  });

  it("searches title and author only (not series)", async () => {
    const tag = unique("ser");
    await createBook({ series: tag });
    const { body } = await get(`/api/books?search=${tag}`);
    expect(body.data).toMatchObject({ books: [], total: 0 });
  });

  it("searches 1-2 character terms without the index, as substrings of title or author", async () => {
    const { body } = await get("/api/books?search=Wa&limit=500&status=all");
    expect(body.data.books.length).toBeGreaterThan(0);
    for (const book of body.data.books) expect(`${book.title} ${book.author}`.toLowerCase()).toContain("wa");
  });

  it("treats LIKE wildcards in a short search literally", async () => {
    const { body } = await get(`/api/books?search=${encodeURIComponent("%_")}&status=all`);
    for (const book of body.data.books) expect(`${book.title} ${book.author}`).toContain("%_");
  });

  it("filters by series and author (any case) and by missing metadata, each total counting every match", async () => {
    const [saga, writer] = [unique("Saga"), unique("Writer")];
    const full = await createBook({
      title: "Full",
      author: writer,
      series: saga,
      series_number: "1",
      isbn: "1",
      asin: "A1",
      publisher: "P",
      published_year: 2001,
      duration_minutes: 60,
      description: "D",
    });
    const sparse = await createBook({ title: "Sparse", series: saga.toUpperCase(), author: writer });
    const other = await createBook({ title: "Other", author: writer });
    const ids = async (query: string) => {
      const { status, body } = await get(`/api/books?${query}&limit=500`);
      expect(status, query).toBe(200);
      expect(body.data.total, query).toBe(body.data.books.length);
      return body.data.books.map((x: Json) => x.id);
    };
    expect(await ids(`series=${encodeURIComponent(saga.toLowerCase())}`)).toEqual([sparse.book_id, full.book_id]);
    expect(await ids(`author=${encodeURIComponent(writer)}`)).toEqual([other.book_id, sparse.book_id, full.book_id]);
    expect(await ids(`author=${encodeURIComponent(writer)}&missing_metadata=true`)).toEqual([other.book_id, sparse.book_id]);
    expect(await ids(`author=${encodeURIComponent(writer)}&missing_metadata=false`)).toEqual([full.book_id]);
    expect(await ids(`series=${encodeURIComponent(saga)}&search=sparse`)).toEqual([sparse.book_id]);
    const paged = await get(`/api/books?author=${encodeURIComponent(writer)}&limit=1&offset=1`);
    expect(paged.body.data).toMatchObject({ total: 3, page_info: { limit: 1, offset: 1, has_more: true } });
    expect((await get("/api/books?missing_metadata=maybe")).status).toBe(422);
    // Files gone from Audiobookshelf (the sync sets files_missing).
    await primaryDatabase(env).update(books).set({ filesMissing: true }).where(eq(books.id, sparse.book_id));
    expect(await ids(`author=${encodeURIComponent(writer)}&missing_files=true`)).toEqual([sparse.book_id]);
    expect(await ids(`author=${encodeURIComponent(writer)}&missing_files=false`)).toEqual([other.book_id, full.book_id]);
  });

  it("answers 422 for a bad status or page", async () => {
    for (const query of ["status=deleted", "limit=0", "limit=501", "offset=-1", "limit=ten"]) {
      const { status, body } = await get(`/api/books?${query}`);
      expect(status, query).toBe(422);
      expect(body.errors[0].path).toMatch(/^query\./);
    }
  });
});

describe("PUT /api/books/:id", () => {
  it("applies only the fields sent, answers changes_made, recomputes completeness and records corrections", async () => {
    const book = await createBook({ author: "Old Author", isbn: "123" });
    const before = (await get(`/api/books/${book.book_id}`)).body.data;
    const { status, body } = await send("PUT", `/api/books/${book.book_id}`, {
      author: "New Author",
      isbn: "123",
      publisher: " Tor ",
      isbn13: undefined,
    });
    expect(status).toBe(200);
    expect(body.data).toEqual({
      book_id: book.book_id,
      changes_made: { author: { old: "Old Author", new: "New Author" }, publisher: { old: null, new: "Tor" } },
      metadata_completeness_percent: 40,
    });
    const after = (await get(`/api/books/${book.book_id}`)).body.data;
    expect(after).toMatchObject({ author: "New Author", isbn: "123", publisher: "Tor", metadata_completeness_percent: 40 });
    expect(after.last_metadata_update > before.last_metadata_update).toBe(true);
    expect(after.date_updated).toBe(after.last_metadata_update);
    expect(await corrections(book.book_id)).toEqual([
      { field_name: "author", old_value: "Old Author", new_value: "New Author", source: "Manual", reason: null, corrected_by: "operator" },
      { field_name: "publisher", old_value: null, new_value: "Tor", source: "Manual", reason: null, corrected_by: "operator" },
    ]);
  });

  it("takes the correction source and reason from the body, clears a field with null, and records no row for status", async () => {
    const book = await createBook({ published_year: 1999, series: "S" });
    const { body } = await send("PUT", `/api/books/${book.book_id}`, {
      published_year: 2001,
      series: null,
      status: "duplicate",
      correction_source: "GoogleBooks",
      correction_reason: "ISBN lookup",
    });
    expect(body.data).toEqual({
      book_id: book.book_id,
      changes_made: {
        published_year: { old: 1999, new: 2001 },
        series: { old: "S", new: null },
        status: { old: "active", new: "duplicate" },
      },
      metadata_completeness_percent: 20,
    });
    expect(await corrections(book.book_id)).toEqual([
      { field_name: "series", old_value: "S", new_value: null, source: "GoogleBooks", reason: "ISBN lookup", corrected_by: "operator" },
      {
        field_name: "published_year",
        old_value: "1999",
        new_value: "2001",
        source: "GoogleBooks",
        reason: "ISBN lookup",
        corrected_by: "operator",
      },
    ]);
  });

  it("answers 200 with no changes, and writes nothing, when every value is the same", async () => {
    const book = await createBook({ author: "Same" });
    const before = (await get(`/api/books/${book.book_id}`)).body.data;
    const { status, body } = await send("PUT", `/api/books/${book.book_id}`, { author: " Same ", title: before.title });
    expect(status).toBe(200);
    expect(body.data).toEqual({ book_id: book.book_id, changes_made: {}, metadata_completeness_percent: 20 });
    expect((await get(`/api/books/${book.book_id}`)).body.data).toEqual(before);
    expect(await corrections(book.book_id)).toEqual([]);
  });

  it("answers 404 for a missing book and 422 for each kind of bad input", async () => {
    const missing = await send("PUT", "/api/books/999999999", { title: "X" });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject(errorShape(404, "not_found"));

    const { book_id } = await createBook();
    const path = `/api/books/${book_id}`;
    await expect422("PUT", path, {}, "body", "custom");
    await expect422("PUT", path, { correction_source: "Manual" }, "body", "custom");
    await expect422("PUT", path, { title: "" }, "body.title", "too_small");
    await expect422("PUT", path, { title: null }, "body.title", "invalid_type");
    await expect422("PUT", path, { status: "deleted" }, "body.status", "invalid_value");
    await expect422("PUT", path, { correction_source: "Wikipedia", title: "X" }, "body.correction_source", "invalid_value");
    await expect422("PUT", path, { duration_minutes: "long" }, "body.duration_minutes", "invalid_type");
    await expect422("PUT", path, { abs_id: "x" }, "body", "unrecognized_keys");
    await expect422("PUT", "/api/books/abc", { title: "X" }, "path.id", "invalid_type");
  });
});

describe("DELETE /api/books/:id", () => {
  it("archives the book (it stays, with status archived) and is idempotent", async () => {
    const book = await createBook();
    const title = (await get(`/api/books/${book.book_id}`)).body.data.title;
    for (let i = 0; i < 2; i++) {
      const { status, body } = await send("DELETE", `/api/books/${book.book_id}`);
      expect(status).toBe(200);
      expect(body.data).toEqual({ book_id: book.book_id, status: "archived", message: `Book '${title}' marked as archived` });
    }
    expect((await get(`/api/books/${book.book_id}`)).body.data.status).toBe("archived");
  });

  it("answers 404 for a missing book", async () => {
    const { status, body } = await send("DELETE", "/api/books/999999999");
    expect(status).toBe(404);
    expect(body).toMatchObject(errorShape(404, "not_found"));
  });
});

describe("GET /api/books/search", () => {
  it("reaches its handler (not /:id), in the search tier", async () => {
    const { status, headers, body } = await get(`/api/books/search?query=${unique("none")}`);
    expect(status).toBe(200);
    expect(body.data).toEqual({ query: expect.any(String), books: [], total_results: 0 });
    expect(headers.get("RateLimit-Policy")).toMatch(/^"search"/);
  });

  it("ranks exact matches above prefix matches above other substrings, case-insensitively", async () => {
    const tag = unique("rank");
    const substring = await createBook({ title: `The ${tag} Saga` });
    const prefix = await createBook({ title: `${tag} Rising` });
    const exact = await createBook({ title: "Unrelated", series: tag.toUpperCase() });
    const archived = await createBook({ title: tag });
    await send("DELETE", `/api/books/${archived.book_id}`);

    for (const query of [tag, tag.toUpperCase(), ` ${tag} `]) {
      const { body } = await get(`/api/books/search?query=${encodeURIComponent(query)}`);
      expect(body.data.query).toBe(query.trim());
      expect(body.data.total_results).toBe(3);
      expect(
        body.data.books.map((b: Json) => b.id),
        query,
      ).toEqual([exact.book_id, prefix.book_id, substring.book_id]);
    }
    const limited = await get(`/api/books/search?query=${tag}&limit=1`);
    expect(limited.body.data.books.map((b: Json) => b.id)).toEqual([exact.book_id]);
    expect(limited.body.data.total_results).toBe(3);
  });

  it("finds books by author, series, narrator, ISBN and ASIN, and by any substring", async () => {
    const tag = unique("fld").replace("-", "");
    const books = await Promise.all(["author", "series", "narrator", "isbn", "asin"].map((field) => createBook({ [field]: `x${tag}y` })));
    const { body } = await get(`/api/books/search?query=${tag.slice(2, 9)}&limit=100`);
    expect(body.data.books.map((b: Json) => b.id).sort()).toEqual(books.map((b) => b.book_id).sort());
  });

  it("takes FTS syntax in a query literally", async () => {
    const tag = unique("q");
    const book = await createBook({ title: `He said "${tag}" - NEAR* (x)` });
    for (const query of [`"${tag}"`, `said "${tag}`, `- NEAR* (x`]) {
      const { status, body } = await get(`/api/books/search?query=${encodeURIComponent(query)}&limit=100`);
      expect(status, query).toBe(200);
      expect(
        body.data.books.map((b: Json) => b.id),
        query,
      ).toContain(book.book_id);
    }
    for (const query of ['"', "*", "AND", "(", "a OR b", "NEAR(a b)"]) {
      expect((await get(`/api/books/search?query=${encodeURIComponent(query)}`)).status, query).toBe(200);
    }
  });

  it("pages through the matches with offset", async () => {
    const tag = unique("pg");
    const made = [];
    for (const n of [1, 2, 3]) made.push(await createBook({ title: `${tag} ${n}` }));
    const pages = [];
    for (const offset of [0, 1, 2]) {
      const { body } = await get(`/api/books/search?query=${tag}&limit=1&offset=${offset}`);
      expect(body.data.total_results).toBe(3);
      pages.push(body.data.books[0].id);
    }
    expect(pages.sort()).toEqual(made.map((b) => b.book_id).sort());
  });

  it("searches 1-2 character queries too", async () => {
    const { status, body } = await get("/api/books/search?query=Zq&limit=100");
    expect(status).toBe(200);
    for (const book of body.data.books) expect(JSON.stringify(book).toLowerCase()).toContain("zq");
  });

  it("answers 422 without a query, with an empty one, or a limit out of bounds", async () => {
    for (const query of ["", "query=", "query=%20%20", "query=x&limit=0", "query=x&limit=101", `query=${"x".repeat(201)}`]) {
      const { status, body } = await get(`/api/books/search?${query}`);
      expect(status, query).toBe(422);
      expect(body.errors[0].path).toMatch(/^query\.(query|limit)$/);
    }
  });
});

describe("GET /api/books/incomplete-metadata", () => {
  it("reaches its handler and lists active books below the threshold, least complete first, with missing fields", async () => {
    const book = await createBook({ title: unique("incomplete"), author: "A", isbn: "1" });
    const { status, body } = await get("/api/books/incomplete-metadata?threshold=31&limit=500");
    expect(status).toBe(200);
    expect(body.data.threshold).toBe(31);
    expect(body.data.total_incomplete).toBeGreaterThanOrEqual(body.data.books.length);
    const pcts = body.data.books.map((b: Json) => b.metadata_completeness_percent);
    expect(pcts).toEqual([...pcts].sort((x, y) => x - y));
    expect(pcts.every((p: number) => p < 31)).toBe(true);
    expect(body.data.books.find((b: Json) => b.id === book.book_id)).toMatchObject({
      metadata_completeness_percent: 30,
      missing_fields: ["series", "series_number", "asin", "publisher", "published_year", "duration_minutes", "description"],
      metadata_source: {},
    });
  });

  it("answers 422 for a threshold or limit out of bounds", async () => {
    for (const query of ["threshold=101", "threshold=-1", "limit=0", "limit=501", "threshold=high"]) {
      expect((await get(`/api/books/incomplete-metadata?${query}`)).status, query).toBe(422);
    }
  });
});

describe("GET /api/books/series/:name", () => {
  it("lists the active books of a series, matched case-insensitively, in numeric order", async () => {
    const name = `${unique("Saga")}/Part`;
    const ten = await createBook({ series: name, series_number: "10" });
    const two = await createBook({ series: name.toUpperCase(), series_number: "2" });
    const none = await createBook({ series: name });
    const half = await createBook({ series: name, series_number: "1.5" });
    const extra = await createBook({ series: name, series_number: "Novella" });
    const archived = await createBook({ series: name, series_number: "3" });
    await send("DELETE", `/api/books/${archived.book_id}`);

    const { status, body } = await get(`/api/books/series/${encodeURIComponent(` ${name.toLowerCase()} `)}`);
    expect(status).toBe(200);
    expect(body.data.series_name).toBe(name.toLowerCase());
    expect(body.data.total_books).toBe(5);
    expect(body.data.books.map((b: Json) => b.id)).toEqual([half.book_id, two.book_id, ten.book_id, extra.book_id, none.book_id]);
    expect(body.data.books[0]).toMatchObject({ series: name, series_number: "1.5", status: "active" });
  });

  it("answers an empty list for an unknown series", async () => {
    const { status, body } = await get(`/api/books/series/${unique("nothing")}`);
    expect(status).toBe(200);
    expect(body.data).toEqual({ series_name: expect.any(String), books: [], total_books: 0 });
  });
});

describe("GET /api/books/:id/metadata-history", () => {
  it("answers the book's corrections, newest first", async () => {
    const book = await createBook({ author: "A1" });
    await send("PUT", `/api/books/${book.book_id}`, { author: "A2" });
    await send("PUT", `/api/books/${book.book_id}`, { author: "A3", correction_source: "Goodreads", correction_reason: "typo" });
    const { status, body } = await get(`/api/books/${book.book_id}/metadata-history`);
    expect(status).toBe(200);
    const title = (await get(`/api/books/${book.book_id}`)).body.data.title;
    expect(body.data).toEqual({
      book_id: book.book_id,
      book_title: title,
      total_corrections: 2,
      corrections: [
        {
          id: expect.any(Number),
          field_name: "author",
          old_value: "A2",
          new_value: "A3",
          source: "Goodreads",
          reason: "typo",
          correction_date: ISO,
          corrected_by: "operator",
        },
        {
          id: expect.any(Number),
          field_name: "author",
          old_value: "A1",
          new_value: "A2",
          source: "Manual",
          reason: null,
          correction_date: ISO,
          corrected_by: "operator",
        },
      ],
    });
  });

  it("answers 404 for a missing book", async () => {
    const { status, body } = await get("/api/books/999999999/metadata-history");
    expect(status).toBe(404);
    expect(body).toMatchObject(errorShape(404, "not_found"));
  });
});

describe("PUT /api/books/:id/metadata-source", () => {
  it("records the source of one field, keeping the others, in the metadata tier", async () => {
    const book = await createBook({ metadata_source: { title: "Manual" } });
    const { status, headers, body } = await send("PUT", `/api/books/${book.book_id}/metadata-source`, {
      field_name: "isbn",
      source: "GoogleBooks",
    });
    expect(status).toBe(200);
    expect(headers.get("RateLimit-Policy")).toMatch(/^"metadata"/);
    expect(body.data).toEqual({
      book_id: book.book_id,
      field_name: "isbn",
      source: "GoogleBooks",
      metadata_source: { title: "Manual", isbn: "GoogleBooks" },
    });
    expect((await get(`/api/books/${book.book_id}`)).body.data.metadata_source).toEqual({ title: "Manual", isbn: "GoogleBooks" });
    expect(await corrections(book.book_id)).toEqual([]);
  });

  it("answers 404 for a missing book and 422 for a field that is not a metadata field", async () => {
    const missing = await send("PUT", "/api/books/999999999/metadata-source", { field_name: "isbn", source: "Manual" });
    expect(missing.status).toBe(404);
    const { book_id } = await createBook();
    const path = `/api/books/${book_id}/metadata-source`;
    await expect422("PUT", path, { field_name: "narrator", source: "Manual" }, "body.field_name", "invalid_value");
    await expect422("PUT", path, { field_name: "isbn", source: " " }, "body.source", "too_small");
    await expect422("PUT", path, { field_name: "isbn" }, "body.source", "invalid_type");
    await expect422("PUT", path, { field_name: "isbn", source: "Manual", extra: 1 }, "body", "unrecognized_keys");
  });
});

describe("POST /api/books/import", () => {
  const countByPrefix = async (prefix: string) =>
    (await env.DB.prepare("SELECT count(*) AS n FROM books WHERE abs_id LIKE ?").bind(`${prefix}%`).first<{ n: number }>())!.n;

  it("creates, updates and leaves unchanged by abs_id, in the upload tier", async () => {
    const prefix = unique("imp");
    const rows = Array.from({ length: 30 }, (_, i) => ({
      abs_id: `${prefix}-${i}`,
      title: `${prefix} book ${i}`,
      author: "Import Author",
      series_number: String(i),
      import_source: "user_import",
    }));
    const first = await send("POST", "/api/books/import", rows);
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toMatch(/^"upload"/);
    expect(first.body.data).toEqual({ created: 30, updated: 0, unchanged: 0, total: 30 });
    expect(await countByPrefix(prefix)).toBe(30);

    const changed = { ...rows[1]!, title: `${prefix} renamed`, publisher: "Tor", metadata_source: { title: "Goodreads" } };
    const sparse = { abs_id: rows[2]!.abs_id, title: rows[2]!.title };
    const second = await send("POST", "/api/books/import", [rows[0], changed, sparse, { abs_id: `${prefix}-new`, title: "New" }]);
    expect(second.body.data).toEqual({ created: 1, updated: 1, unchanged: 2, total: 4 });

    const { results } = await env.DB.prepare("SELECT id FROM books WHERE abs_id = ?").bind(rows[1]!.abs_id).all<{ id: number }>();
    const book = (await get(`/api/books/${results[0]!.id}`)).body.data;
    expect(book).toMatchObject({
      title: `${prefix} renamed`,
      author: "Import Author",
      series_number: "1",
      publisher: "Tor",
      metadata_source: { title: "Goodreads" },
      metadata_completeness_percent: 40,
    });
    expect(await corrections(book.id)).toEqual([
      {
        field_name: "title",
        old_value: `${prefix} book 1`,
        new_value: `${prefix} renamed`,
        source: "Auto-corrected",
        reason: "bulk import",
        corrected_by: "operator",
      },
      {
        field_name: "publisher",
        old_value: null,
        new_value: "Tor",
        source: "Auto-corrected",
        reason: "bulk import",
        corrected_by: "operator",
      },
    ]);
    // The renamed book is found by its new title.
    const found = await get(`/api/books/search?query=${encodeURIComponent(`${prefix} renamed`)}`);
    expect(found.body.data.books.map((b: Json) => b.id)).toEqual([book.id]);
  });

  it("writes nothing when one row is bad, and names the row and field", async () => {
    const prefix = unique("bad");
    const rows = Array.from({ length: 6 }, (_, i) => ({ abs_id: `${prefix}-${i}`, title: `t${i}` }));
    rows[3] = { ...rows[3]!, title: " " };
    const { status, body } = await send("POST", "/api/books/import", rows);
    expect(status).toBe(422);
    expect(body).toMatchObject(errorShape(422, "validation_error"));
    expect(body.errors).toEqual([{ path: "body.3.title", message: expect.any(String), code: "too_small" }]);
    expect(await countByPrefix(prefix)).toBe(0);
  });

  it("counts an import that only changes metadata_source as an update, and stores it", async () => {
    const prefix = unique("src");
    const row = { abs_id: `${prefix}-1`, title: `${prefix} t`, metadata_source: { title: "Manual" } };
    expect((await send("POST", "/api/books/import", [row])).body.data).toEqual({ created: 1, updated: 0, unchanged: 0, total: 1 });
    const again = await send("POST", "/api/books/import", [{ ...row, metadata_source: { title: "Goodreads" } }]);
    expect(again.body.data).toEqual({ created: 0, updated: 1, unchanged: 0, total: 1 });
    const { id } = (await env.DB.prepare("SELECT id FROM books WHERE abs_id = ?").bind(row.abs_id).first<{ id: number }>())!;
    expect((await get(`/api/books/${id}`)).body.data.metadata_source).toEqual({ title: "Goodreads" });
  });

  it("writes nothing when the database fails in the middle of the write", async () => {
    const prefix = unique("atomic");
    const saga = await createSeries({ total_books_in_series: 40 });
    const first = await send("POST", "/api/books/import", [{ abs_id: `${prefix}-kept`, title: `${prefix} kept`, series: saga.name }]);
    expect(first.body.data).toEqual({ created: 1, updated: 0, unchanged: 0, total: 1 });
    const kept = (await env.DB.prepare("SELECT id, title FROM books WHERE abs_id = ?")
      .bind(`${prefix}-kept`)
      .first<{ id: number; title: string }>())!;

    // A real D1 failure on the last row, after the earlier rows' statements have run in the same batch.
    const poison = `${prefix} poison`;
    const trigger = `test_fail_${prefix.replace(/\W/g, "_")}`;
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON books WHEN NEW.title = '${poison}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`,
    ).run();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const rows = [
        { abs_id: `${prefix}-kept`, title: `${prefix} renamed`, series: saga.name },
        ...Array.from({ length: 30 }, (_, i) => ({ abs_id: `${prefix}-${i}`, title: `${prefix} ${i}`, series: saga.name })),
        { abs_id: `${prefix}-last`, title: poison, series: saga.name },
      ];
      const { status, body } = await send("POST", "/api/books/import", rows);
      expect(status, JSON.stringify(body)).toBe(503);
      expect(body).toMatchObject(errorShape(503, "database_error"));
      expect(String(logged.mock.calls[0]?.[0])).toContain("poisoned row");
    } finally {
      logged.mockRestore();
      await env.DB.prepare(`DROP TRIGGER IF EXISTS ${trigger}`).run();
    }
    expect(await countByPrefix(prefix)).toBe(1);
    expect((await get(`/api/books/${kept.id}`)).body.data.title).toBe(`${prefix} kept`);
    expect(await corrections(kept.id)).toEqual([]);
    expect(await env.DB.prepare("SELECT books_owned FROM series WHERE id = ?").bind(saga.series_id).first()).toEqual({ books_owned: 1 });
  });

  it("refuses an abs_id twice in one call, a row without abs_id, unknown fields, and arrays out of bounds", async () => {
    const prefix = unique("dup");
    await expect422(
      "POST",
      "/api/books/import",
      [
        { abs_id: `${prefix}-a`, title: "A" },
        { abs_id: `${prefix}-b`, title: "B" },
        { abs_id: `${prefix}-a`, title: "C" },
      ],
      "body.2.abs_id",
      "custom",
    );
    await expect422("POST", "/api/books/import", [{ title: "No abs_id" }], "body.0.abs_id", "invalid_type");
    await expect422("POST", "/api/books/import", [{ abs_id: `${prefix}-c`, title: "C", status: "active" }], "body.0", "unrecognized_keys");
    await expect422("POST", "/api/books/import", [], "body", "too_small");
    await expect422("POST", "/api/books/import", { abs_id: `${prefix}-d`, title: "D" }, "body", "invalid_type");
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ abs_id: `${prefix}-${i}`, title: "T" }));
    await expect422("POST", "/api/books/import", tooMany, "body", "too_big");
    expect(await countByPrefix(prefix)).toBe(0);
  });

  it("imports 1000 books in one call and keeps series completion current", async () => {
    const prefix = unique("bulk");
    const series = await createSeries({ total_books_in_series: 2000 });
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      abs_id: `${prefix}-${i}`,
      title: `${prefix} ${i}`,
      series: series.name,
      description: "d".repeat(100),
    }));
    const { status, body } = await send("POST", "/api/books/import", rows);
    expect(status).toBe(200);
    expect(body.data).toEqual({ created: 1000, updated: 0, unchanged: 0, total: 1000 });
    expect(await countByPrefix(prefix)).toBe(1000);
    const owned = await env.DB.prepare("SELECT books_owned, completion_percentage FROM series WHERE id = ?").bind(series.series_id).first();
    expect(owned).toEqual({ books_owned: 1000, completion_percentage: 50 });

    // Moving 10 of them out of the series counts on both sides.
    const other = await createSeries();
    const moved = rows.slice(0, 10).map((row) => ({ ...row, series: other.name }));
    expect((await send("POST", "/api/books/import", moved)).body.data).toEqual({ created: 0, updated: 10, unchanged: 0, total: 10 });
    expect(await env.DB.prepare("SELECT books_owned FROM series WHERE id = ?").bind(series.series_id).first()).toEqual({
      books_owned: 990,
    });
    expect(await env.DB.prepare("SELECT books_owned FROM series WHERE id = ?").bind(other.series_id).first()).toEqual({ books_owned: 10 });
  });
});
