import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, googleBooksLookups, metadataCorrections, schedulerState, tasks, upstreamQuota } from "../../src/db/schema";
import worker from "../../src/index";
import { TICK_CRON } from "../../src/scheduler/schedule";
import { createBook } from "../fixtures";
import { withEnv } from "../helpers";
import { fakeGoogle, GOOGLE_KEY, GOOGLE_URL, hobbit, quotaExceeded, volume } from "../integrations/fake-google-books";

/** METADATA_NEW and METADATA_FULL run through the scheduler (the Cron Trigger and the trigger route) against a fake Google Books. */

const db = primaryDatabase(env);
const googleEnv = { ...env, GOOGLE_BOOKS_API_KEY: GOOGLE_KEY, GOOGLE_BOOKS_URL: GOOGLE_URL } as Env;
const withGoogle = withEnv(googleEnv);
const dune = volume("vol_dune", {
  title: "Dune",
  authors: ["Frank Herbert"],
  publisher: "Ace",
  publishedDate: "1990-09-01",
  description: "Melange.",
  industryIdentifiers: [{ type: "ISBN_13", identifier: "9780441172719" }],
});

/** Fires the Cron Trigger at the Worker's scheduled() handler with these bindings, as Cloudflare would. */
async function tick(at: string, bindings: Env = googleEnv) {
  const controller = createScheduledController({ cron: TICK_CRON, scheduledTime: Date.parse(at) });
  const context = createExecutionContext();
  await worker.scheduled(controller, bindings, context);
  await waitOnExecutionContext(context);
}

const rowAt = (name: string, at: string) =>
  db
    .select()
    .from(tasks)
    .where(eq(tasks.scheduledTime, at))
    .all()
    .then((rows) => rows.find((row) => row.taskName === name));
const stored = (bookId: number) => db.select().from(books).where(eq(books.id, bookId)).get();
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
  await db.delete(googleBooksLookups);
  await db.delete(upstreamQuota);
  await db.update(schedulerState).set({ lastCheckedAt: null, cron: null, paused: false, pausedAt: null, pausedBy: null });
});
afterEach(() => vi.restoreAllMocks());

describe("METADATA_NEW", () => {
  it("on its Sunday 04:30 tick, fills the empty fields of the books added in the last 7 days from Google Books, and only theirs", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit], "intitle:dune inauthor:frank herbert": [dune] });
    const recent = await createBook({ title: "The Hobbit", isbn: "9780007487288", publisher: "Allen & Unwin" });
    const byTitle = await createBook({ title: "Dune", author: "Frank Herbert" });
    const old = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    await db
      .update(books)
      .set({ dateAdded: daysAgo(8) })
      .where(eq(books.id, old.book_id));

    // Sunday 2053-03-02: the tick before, then METADATA_NEW's own time.
    await tick("2053-03-02T04:25:00.000Z");
    await tick("2053-03-02T04:30:00.000Z");
    const row = await rowAt("METADATA_NEW", "2053-03-02T04:30:00.000Z");
    expect(row).toMatchObject({ status: "completed", itemsProcessed: 2, itemsSucceeded: 2, itemsFailed: 0, errorMessage: null });
    expect(row!.taskMetadata).toMatchObject({
      trigger: "cron",
      cron: "30 4 * * SUN",
      books_selected: 2,
      books_corrected: 2,
      total_corrections: 7,
      google_books_calls: 2,
      stopped_reason: null,
    });
    // The filled publisher is kept; the book added eight days ago is not touched.
    expect(await stored(recent.book_id)).toMatchObject({ publisher: "Allen & Unwin", author: "J. R. R. Tolkien", publishedYear: 2012 });
    expect(await stored(byTitle.book_id)).toMatchObject({ isbn: "9780441172719", publisher: "Ace", publishedYear: 1990 });
    expect(await stored(old.book_id)).toMatchObject({ author: null, publisher: null, publishedYear: null });
    const rows = await db.select().from(metadataCorrections).where(eq(metadataCorrections.bookId, recent.book_id));
    expect(rows.map((r) => [r.fieldName, r.source, r.correctedBy]).sort()).toEqual([
      ["author", "GoogleBooks", "scheduler"],
      ["description", "GoogleBooks", "scheduler"],
      ["published_year", "GoogleBooks", "scheduler"],
    ]);
    expect(fake.calls.map((c) => c.url.searchParams.get("q")).sort()).toEqual([
      "intitle:dune inauthor:frank herbert",
      "isbn:9780007487288",
    ]);

    // The next Sunday's run leaves the books just corrected alone (the 24-hour guard): no call.
    await tick("2053-03-09T04:25:00.000Z");
    await tick("2053-03-09T04:30:00.000Z");
    expect((await rowAt("METADATA_NEW", "2053-03-09T04:30:00.000Z"))!.taskMetadata).toMatchObject({
      books_selected: 2,
      books_processed: 0,
      skipped_recently_changed: 2,
      google_books_calls: 0,
    });
    expect(fake.calls).toHaveLength(2);
  });

  it("is skipped, naming the binding to set, while Google Books is not configured; nothing is written", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const book = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    await tick("2053-03-16T04:25:00.000Z", env);
    await tick("2053-03-16T04:30:00.000Z", env);
    expect(await rowAt("METADATA_NEW", "2053-03-16T04:30:00.000Z")).toMatchObject({
      status: "skipped",
      errorMessage: "Google Books is not configured (set GOOGLE_BOOKS_API_KEY)",
      itemsProcessed: 0,
    });
    expect(fake.calls).toEqual([]);
    expect((await stored(book.book_id))!.publisher).toBeNull();
  });

  it("run by hand, stops cleanly when Google answers 429 and says so; what was filled before stays", async () => {
    fakeGoogle({ "isbn:9780007487288": [hobbit] }, (q) => (q.startsWith("intitle:") ? quotaExceeded() : undefined));
    const first = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    // More complete, so it comes second (least complete first), and needs a title search.
    const second = await createBook({ title: "Dune", author: "Frank Herbert", publisher: "Ace" });
    const res = await withGoogle("/api/scheduler/trigger/metadata_new", { method: "POST", auth: true });
    expect(res.status).toBe(200);
    const { data } = await res.json<{ data: any }>();
    expect(data).toMatchObject({ task_name: "METADATA_NEW", status: "completed", items_processed: 1 });
    expect(data.task_metadata).toMatchObject({
      trigger: "manual",
      books_selected: 2,
      books_corrected: 1,
      stopped_reason: "Stopped: Google Books answered 429 (quota exceeded)",
    });
    expect((await stored(first.book_id))!.publisher).toBe("HarperCollins");
    expect((await stored(second.book_id))!.isbn).toBeNull();
  });

  it("is reported as needing Google Books, and available once it is configured", async () => {
    const detail = async (call: typeof withGoogle) =>
      (await (await call("/api/scheduler/task/METADATA_NEW", { auth: true })).json<{ data: any }>()).data;
    expect(await detail(withEnv({}))).toMatchObject({
      requires: ["google_books"],
      available: false,
      unavailable_reason: "Google Books is not configured (set GOOGLE_BOOKS_API_KEY)",
    });
    expect(await detail(withGoogle)).toMatchObject({ requires: ["google_books"], available: true, unavailable_reason: null });
  });
});

describe("METADATA_FULL", () => {
  it("on the 1st at 04:00, corrects the books under 80 % whenever they were added", async () => {
    const fake = fakeGoogle({ "isbn:9780007487288": [hobbit] });
    const old = await createBook({ title: "The Hobbit", isbn: "9780007487288" });
    await db
      .update(books)
      .set({ dateAdded: daysAgo(400) })
      .where(eq(books.id, old.book_id));
    await tick("2053-04-01T03:55:00.000Z");
    await tick("2053-04-01T04:00:00.000Z");
    expect((await rowAt("METADATA_FULL", "2053-04-01T04:00:00.000Z"))!.taskMetadata).toMatchObject({
      trigger: "cron",
      books_corrected: 1,
      google_books_calls: 1,
    });
    expect((await stored(old.book_id))!.publisher).toBe("HarperCollins");
    expect(fake.calls).toHaveLength(1);
  });
});
