import { env } from "cloudflare:workers";
import { desc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, googleBooksLookups, metadataCorrections, tasks, upstreamQuota } from "../../src/db/schema";
import { GOOGLE_BOOKS_DAILY_BUDGET, quotaDay } from "../../src/services/google-books-cache";
import { createBook } from "../fixtures";
import { errorShape, withEnv } from "../helpers";
import { fakeGoogle, GOOGLE_KEY, GOOGLE_URL, hobbit, volume } from "../integrations/fake-google-books";
import { captureLogs, fakeUpstream, json } from "../integrations/fake-upstream";

const KEY = GOOGLE_KEY;
const google = withEnv({ GOOGLE_BOOKS_API_KEY: GOOGLE_KEY, GOOGLE_BOOKS_URL: GOOGLE_URL });
const db = primaryDatabase(env);

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
  await db.delete(googleBooksLookups);
  await db.delete(upstreamQuota);
});
afterEach(() => vi.restoreAllMocks());

async function post(path: string, body?: unknown, api = google) {
  const res = await api(path, { method: "POST", auth: true, ...(body === undefined ? {} : { json: body }) });
  return { status: res.status, body: await res.json<any>() };
}

const corrections = (bookId: number) => db.select().from(metadataCorrections).where(eq(metadataCorrections.bookId, bookId));
const stored = (bookId: number) => db.select().from(books).where(eq(books.id, bookId)).get();

describe("POST /api/metadata/correct-book", () => {
  it("answers 503 naming GOOGLE_BOOKS_API_KEY when Google Books is not configured", async () => {
    const { book_id } = await createBook({ title: "The Hobbit" });
    const { status, body } = await post("/api/metadata/correct-book", { book_id }, withEnv({ GOOGLE_BOOKS_API_KEY: "" }));
    expect(status).toBe(503);
    expect(body).toMatchObject(errorShape(503, "service_unavailable"));
    expect(body.detail).toContain("set GOOGLE_BOOKS_API_KEY");
  });

  it("finds a book by ISBN and fills only its empty fields, one correction row each, with their source", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const { book_id } = await createBook({ title: "The Hobbit", isbn: "978-0-00-748728-8", publisher: "Allen & Unwin" });
    const { status, body } = await post("/api/metadata/correct-book", { book_id });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      book_id,
      book_title: "The Hobbit",
      corrections_made: 3,
      fields_filled: ["author", "published_year", "description"],
      new_completeness: 60,
      sources_used: ["GoogleBooks"],
      google_books_calls: 1,
    });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.url.searchParams.get("q")).toBe("isbn:9780007487288");
    const book = await stored(book_id);
    // The filled publisher is kept: Google's "HarperCollins" never replaces it.
    expect(book).toMatchObject({
      author: "J. R. R. Tolkien",
      publisher: "Allen & Unwin",
      publishedYear: 2012,
      description: "Bilbo Baggins is a hobbit.",
      metadataCompletenessPercent: 60,
    });
    expect(book!.metadataSource).toMatchObject({ author: "GoogleBooks", published_year: "GoogleBooks", description: "GoogleBooks" });
    const rows = await corrections(book_id);
    expect(rows.map((r) => [r.fieldName, r.oldValue, r.newValue, r.source]).sort()).toEqual([
      ["author", null, "J. R. R. Tolkien", "GoogleBooks"],
      ["description", null, "Bilbo Baggins is a hobbit.", "GoogleBooks"],
      ["published_year", null, "2012", "GoogleBooks"],
    ]);
  });

  it("falls back to title and author, and takes only a volume that matches them", async () => {
    const other = volume("vol_other", { title: "Hobbit Cookbook", authors: ["Someone Else"], publisher: "Nope" });
    const fake = fakeGoogle({ "intitle:the hobbit inauthor:tolkien": [other, hobbit] });
    const { book_id } = await createBook({ title: "The Hobbit", author: "Tolkien" });
    const { body } = await post("/api/metadata/correct-book", { book_id });
    expect(body.data).toMatchObject({ fields_filled: ["isbn", "publisher", "published_year", "description"], google_books_calls: 1 });
    expect(fake.calls[0]!.url.searchParams.get("q")).toBe("intitle:the hobbit inauthor:tolkien");
    expect(await stored(book_id)).toMatchObject({ isbn: "9780007487288", publisher: "HarperCollins", author: "Tolkien" });
  });

  it("changes nothing on no hit, and does not ask Google again for the same book", async () => {
    const fake = fakeGoogle({});
    const { book_id } = await createBook({ title: "An Unknown Self-Published Tale", isbn: "9781234567897" });
    const first = await post("/api/metadata/correct-book", { book_id });
    expect(first.body.data).toMatchObject({ corrections_made: 0, fields_filled: [], sources_used: [], google_books_calls: 2 });
    expect(await corrections(book_id)).toEqual([]);
    const second = await post("/api/metadata/correct-book", { book_id });
    expect(second.body.data).toMatchObject({ corrections_made: 0, google_books_calls: 0, cache_hits: 2 });
    expect(fake.calls).toHaveLength(2);
  });

  it("answers 409 for a book whose metadata changed in the last 24 hours, unless forced", async () => {
    fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const { book_id } = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    await google(`/api/books/${book_id}`, { method: "PUT", auth: true, json: { publisher: "Allen & Unwin" } });
    const refused = await post("/api/metadata/correct-book", { book_id });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject(errorShape(409, "conflict"));
    const forced = await post("/api/metadata/correct-book", { book_id, force: true });
    expect(forced.status).toBe(200);
    expect(forced.body.data.fields_filled).toEqual(["author", "published_year", "description"]);
    expect((await stored(book_id))!.publisher).toBe("Allen & Unwin");
  });

  it("retries a 500 and corrects the book, counting one call", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit] }, (_, n) =>
      n === 1 ? new Response("backend error", { status: 500 }) : undefined,
    );
    const { book_id } = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    const { status, body } = await post("/api/metadata/correct-book", { book_id });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ corrections_made: 4, google_books_calls: 1 });
    expect(fake.calls).toHaveLength(2);
  });

  it("answers 503 saying the quota is exhausted when Google answers 429, and changes nothing", async () => {
    fakeGoogle({}, () => json({ error: { code: 429, message: "Quota exceeded" } }, { status: 429, headers: { "Retry-After": "3600" } }));
    const { book_id } = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    const { status, body } = await post("/api/metadata/correct-book", { book_id });
    expect(status).toBe(503);
    expect(body.detail).toContain("429");
    expect(await corrections(book_id)).toEqual([]);
  });

  it("never echoes the key, in the answer or the logs", async () => {
    const logs = captureLogs();
    fakeUpstream((request) => new Response(`bad request ${request.url}`, { status: 400 }));
    const { book_id } = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    const res = await google("/api/metadata/correct-book", { method: "POST", auth: true, json: { book_id } });
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text)).toMatchObject({ error: "external_api_error", detail: "Google Books answered 400 to GET /volumes" });
    expect(text + logs.join("\n")).not.toContain(KEY);
    expect(text + logs.join("\n")).not.toContain("isbn:");
  });
});

describe("POST /api/metadata/correct-all and correct-recent", () => {
  it("corrects the books under the threshold, and a second run asks Google nothing", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const hit = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    const miss = await createBook({ title: "Nowhere Book" });
    await createBook({
      title: "Complete",
      author: "A",
      series: "S",
      series_number: "1",
      isbn: "1",
      asin: "B",
      publisher: "P",
      published_year: 2000,
      duration_minutes: 60,
      description: "D",
    });
    const { status, body } = await post("/api/metadata/correct-all?completeness_threshold=80&limit=10");
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      books_selected: 2,
      books_processed: 2,
      books_corrected: 1,
      total_corrections: 4,
      google_books_calls: 2,
      stopped_reason: null,
    });
    expect(body.data.average_completeness_after).toBeGreaterThan(body.data.average_completeness_before);
    expect((await stored(hit.book_id))!.publisher).toBe("HarperCollins");
    const calls = fake.calls.length;

    const again = await post("/api/metadata/correct-all?completeness_threshold=80&limit=10");
    // The corrected book changed within 24 h and is skipped; the other one's no-hit is remembered.
    expect(again.body.data).toMatchObject({ books_processed: 1, skipped_recently_changed: 1, google_books_calls: 0, cache_hits: 1 });
    expect(fake.calls).toHaveLength(calls);
    expect(miss.book_id).toBeGreaterThan(0);
    // Each run is a manual METADATA_FULL run with who asked, as the schedule shows it.
    const [last] = await db.select().from(tasks).where(eq(tasks.taskName, "METADATA_FULL")).orderBy(desc(tasks.id)).limit(1);
    expect(last).toMatchObject({ status: "completed", itemsProcessed: 1 });
    expect(last!.taskMetadata).toMatchObject({ trigger: "manual", triggered_by: "operator", books_processed: 1, cache_hits: 1 });
  });

  it("stops cleanly at the daily budget and says so", async () => {
    const fake = fakeGoogle({});
    await db.insert(upstreamQuota).values({ service: "google_books", day: quotaDay(), calls: GOOGLE_BOOKS_DAILY_BUDGET - 1 });
    for (const title of ["First", "Second", "Third"]) await createBook({ title });
    const { status, body } = await post("/api/metadata/correct-all?limit=10");
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      books_processed: 1,
      google_books_calls: 1,
      calls_left_today: 0,
      stopped_reason: expect.stringContaining(`budget of ${GOOGLE_BOOKS_DAILY_BUDGET}`),
    });
    expect(fake.calls).toHaveLength(1);
  });

  it("stops cleanly when Google answers 429 mid-run", async () => {
    fakeGoogle({ "isbn:9780007487288": [hobbit] }, (q) =>
      q.startsWith("intitle") ? new Response("quota", { status: 429, headers: { "Retry-After": "86400" } }) : undefined,
    );
    await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    // More complete, so it comes second (least complete first).
    await createBook({ title: "Zzz Second", author: "Someone", publisher: "Small Press" });
    const { body } = await post("/api/metadata/correct-all?limit=10");
    expect(body.data).toMatchObject({ books_corrected: 1, stopped_reason: "Stopped: Google Books answered 429 (quota exceeded)" });
  });

  it("correct-recent takes only the books added in the last days", async () => {
    fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const recent = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    const old = await createBook({ title: "Old Hobbit", isbn: "9780007487288" });
    await db
      .update(books)
      .set({ dateAdded: new Date(Date.now() - 10 * 86_400_000).toISOString() })
      .where(eq(books.id, old.book_id));
    const { body } = await post("/api/metadata/correct-recent?days=7");
    expect(body.data).toMatchObject({ books_selected: 1, books_corrected: 1 });
    expect((await stored(recent.book_id))!.publisher).toBe("HarperCollins");
    expect((await stored(old.book_id))!.publisher).toBeNull();
    expect((await post("/api/metadata/correct-recent?days=31")).status).toBe(422);
  });
});
