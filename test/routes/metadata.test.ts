import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createBook, unique } from "../fixtures";
import { call, errorShape } from "../helpers";

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const DAY_MS = 86_400_000;

type Json = Record<string, any>;

async function send(method: string, path: string, json?: unknown) {
  const res = await call(path, { method, auth: true, ...(json === undefined ? {} : { json }) });
  return { status: res.status, headers: res.headers, body: await res.json<Json>() };
}
const get = (path: string) => send("GET", path);

/** A correction row written directly, `daysAgo` days old, with a source no other test uses. */
async function insertCorrection(bookId: number, source: string, daysAgo: number) {
  const date = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
  const row = await env.DB.prepare(
    "INSERT INTO metadata_corrections (book_id, field_name, old_value, new_value, source, correction_date) VALUES (?, 'isbn', NULL, '1', ?, ?) RETURNING id",
  )
    .bind(bookId, source, date)
    .first<{ id: number }>();
  return row!.id;
}

const exists = async (id: number) => !!(await env.DB.prepare("SELECT 1 FROM metadata_corrections WHERE id = ?").bind(id).first());

describe("GET /api/metadata/history/:book_id", () => {
  it("answers a book's corrections newest first, and an empty list for an unknown book", async () => {
    const book = await createBook({ isbn: "1" });
    await send("PUT", `/api/books/${book.book_id}`, { isbn: "2" });
    await send("PUT", `/api/books/${book.book_id}`, { isbn: "3", correction_source: "GoogleBooks" });
    const { status, body } = await get(`/api/metadata/history/${book.book_id}`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      book_id: book.book_id,
      total_corrections: 2,
      corrections: [
        {
          id: expect.any(Number),
          field_name: "isbn",
          old_value: "2",
          new_value: "3",
          source: "GoogleBooks",
          reason: null,
          correction_date: ISO,
          corrected_by: "operator",
        },
        {
          id: expect.any(Number),
          field_name: "isbn",
          old_value: "1",
          new_value: "2",
          source: "Manual",
          reason: null,
          correction_date: ISO,
          corrected_by: "operator",
        },
      ],
    });

    const unknown = await get("/api/metadata/history/999999999");
    expect(unknown.status).toBe(200);
    expect(unknown.body.data).toEqual({ book_id: 999999999, corrections: [], total_corrections: 0 });
  });

  it("answers at most 50 corrections, and the total", async () => {
    const book = await createBook();
    const stmt = env.DB.prepare(
      "INSERT INTO metadata_corrections (book_id, field_name, new_value, source) VALUES (?, 'isbn', ?, 'Manual')",
    );
    await env.DB.batch(Array.from({ length: 55 }, (_, i) => stmt.bind(book.book_id, String(i))));
    const { body } = await get(`/api/metadata/history/${book.book_id}`);
    expect(body.data.corrections).toHaveLength(50);
    expect(body.data.total_corrections).toBe(55);
    expect(body.data.corrections[0].new_value).toBe("54");
  });

  it("answers 422 for a book id that is not a positive integer", async () => {
    const { status, body } = await get("/api/metadata/history/abc");
    expect(status).toBe(422);
    expect(body).toMatchObject(errorShape(422, "validation_error"));
    expect(body.errors[0]).toMatchObject({ path: "path.book_id", code: "invalid_type" });
  });
});

describe("GET /api/metadata/by-source", () => {
  it("counts corrections per source since the cutoff", async () => {
    const { book_id } = await createBook();
    const source = unique("src");
    await insertCorrection(book_id, source, 1);
    await insertCorrection(book_id, source, 2);
    await insertCorrection(book_id, source, 40);

    const { status, body } = await get("/api/metadata/by-source");
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ days: 30, cutoff_date: ISO, total_corrections: expect.any(Number) });
    expect(Math.abs(Date.parse(body.data.cutoff_date) - (Date.now() - 30 * DAY_MS))).toBeLessThan(60_000);
    expect(body.data.source_breakdown[source]).toBe(2);
    const sum = Object.values<number>(body.data.source_breakdown).reduce((a, b) => a + b, 0);
    expect(body.data.total_corrections).toBe(sum);

    expect((await get("/api/metadata/by-source?days=60")).body.data.source_breakdown[source]).toBe(3);
    expect((await get("/api/metadata/by-source?days=1")).body.data.source_breakdown[source]).toBeUndefined();
  });

  it("answers 422 for days out of 1..365", async () => {
    for (const days of ["0", "366", "week"]) {
      const { status, body } = await get(`/api/metadata/by-source?days=${days}`);
      expect(status, days).toBe(422);
      expect(body.errors[0].path).toBe("query.days");
    }
  });
});

describe("GET /api/metadata/incomplete", () => {
  it("lists active books below the threshold with where their metadata came from", async () => {
    const book = await createBook({ author: "A", metadata_source: { author: "Goodreads" } });
    const { status, body } = await get("/api/metadata/incomplete?threshold=21&limit=500");
    expect(status).toBe(200);
    expect(body.data.threshold).toBe(21);
    expect(body.data.books.find((b: Json) => b.id === book.book_id)).toMatchObject({
      metadata_completeness_percent: 20,
      metadata_source: { author: "Goodreads" },
      last_metadata_update: ISO,
    });
    expect(body.data.books.every((b: Json) => b.metadata_completeness_percent < 21 && b.status === "active")).toBe(true);
    expect((await get("/api/metadata/incomplete?threshold=101")).status).toBe(422);
  });
});

describe("GET /api/metadata/status", () => {
  it("answers the quality breakdown of the active library and the corrections, in the metadata tier", async () => {
    const { book_id } = await createBook({
      author: "A",
      series: unique("s"),
      isbn: "1",
      asin: "2",
      publisher: "P",
      published_year: 2000,
      duration_minutes: 1,
      description: "D",
      series_number: "1",
    });
    const source = unique("src");
    await insertCorrection(book_id, source, 1);
    await insertCorrection(book_id, source, 10);

    const { status, headers, body } = await get("/api/metadata/status");
    expect(status).toBe(200);
    expect(headers.get("RateLimit-Policy")).toMatch(/^"metadata"/);
    const data = body.data;
    expect(Object.keys(data).sort()).toEqual(
      [
        "average_completeness_percent",
        "completeness_breakdown",
        "recent_corrections_7_days",
        "sources_used",
        "total_books",
        "total_corrections",
      ].sort(),
    );
    const breakdown = data.completeness_breakdown;
    expect(Object.keys(breakdown)).toEqual(["complete_100", "high_quality_80_99", "medium_quality_50_79", "low_quality_0_49"]);
    expect(breakdown.complete_100).toBeGreaterThanOrEqual(1);
    expect(Object.values<number>(breakdown).reduce((a, b) => a + b, 0)).toBe(data.total_books);
    expect(data.average_completeness_percent).toBeGreaterThan(0);
    expect(data.average_completeness_percent).toBeLessThanOrEqual(100);
    expect(Math.round(data.average_completeness_percent * 100) / 100).toBe(data.average_completeness_percent);

    expect(data.sources_used[source]).toBe(2);
    expect(Object.values<number>(data.sources_used).reduce((a, b) => a + b, 0)).toBe(data.total_corrections);
    expect(data.recent_corrections_7_days).toBeGreaterThanOrEqual(1);
    expect(data.recent_corrections_7_days).toBeLessThan(data.total_corrections);
  });

  it("agrees with the rows it summarises", async () => {
    const { body } = await get("/api/metadata/status");
    const { results } = await env.DB.prepare("SELECT metadata_completeness_percent AS p FROM books WHERE status = 'active'").all<{
      p: number;
    }>();
    // Other test files may write while this runs: the counts can only have grown.
    expect(results.length).toBeGreaterThanOrEqual(body.data.total_books);
    const complete = results.filter((r) => r.p === 100).length;
    expect(complete).toBeGreaterThanOrEqual(body.data.completeness_breakdown.complete_100);
  });
});

describe("DELETE /api/metadata/cleanup-old", () => {
  it("deletes corrections older than the cutoff and keeps the rest", async () => {
    const { book_id } = await createBook();
    const source = unique("src");
    const old = await insertCorrection(book_id, source, 45);
    const recent = await insertCorrection(book_id, source, 5);

    const { status, body } = await send("DELETE", "/api/metadata/cleanup-old?days=30");
    expect(status).toBe(200);
    expect(body.data).toEqual({ deleted_count: expect.any(Number), cutoff_date: ISO, days: 30 });
    expect(body.data.deleted_count).toBeGreaterThanOrEqual(1);
    expect(await exists(old)).toBe(false);
    expect(await exists(recent)).toBe(true);

    const again = await send("DELETE", "/api/metadata/cleanup-old?days=4");
    expect(again.body.data.days).toBe(4);
    expect(await exists(recent)).toBe(false);
  });

  it("answers 422 for days out of 1..365, and 405 for GET", async () => {
    expect((await send("DELETE", "/api/metadata/cleanup-old?days=0")).status).toBe(422);
    expect((await send("DELETE", "/api/metadata/cleanup-old?days=400")).status).toBe(422);
    const res = await get("/api/metadata/cleanup-old");
    expect(res.status).toBe(405);
    expect(res.body).toMatchObject(errorShape(405, "method_not_allowed"));
  });
});
