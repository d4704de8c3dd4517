import { env } from "cloudflare:workers";
import { asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../../src/db/client";
import { JSON_SLICE_BYTES, jsonSlices } from "../../../src/db/json-rows";
import { books, metadataCorrections } from "../../../src/db/schema";
import { countingD1, withEnv } from "../../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../../integrations/fake-abs";

/**
 * The import's writes travel as JSON (src/db/json-rows.ts): one INSERT per page of books and one
 * for their correction rows, whatever the page size, so a 10,000-item first sync stays far within
 * a Worker invocation's D1 query limit.
 */

const db = primaryDatabase(env);
/** The sync's task run (src/scheduler/runs.ts): interrupted runs closed and the row inserted, then running, then finished. */
const RECORD_STATEMENTS = 2 + 1 + 1;

/** POST /api/library/sync against the fake ABS, counting the D1 statements it sends. */
async function countedSync() {
  let statements = 0;
  const api = withEnv({ ABS_URL, ABS_TOKEN, DB: countingD1(() => statements++) });
  const res = await api("/api/library/sync", { method: "POST", auth: true });
  return { status: res.status, body: await res.json<any>(), statements };
}

const count = async (table: typeof books | typeof metadataCorrections) =>
  (await db.select({ n: sql<number>`count(*)` }).from(table).get())!.n;

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

describe("the import's statements", () => {
  // 1,500 books written: give a loaded machine time (this is not a speed check; bench/ measures).
  it("a first sync sends one INSERT per page of 500 items, not one per four rows", { timeout: 60_000 }, async () => {
    const items = Array.from({ length: 1_500 }, (_, i) =>
      absItem(`li_${i}`, { title: `Book ${i}`, seriesName: `Long Saga #${i + 1}`, isbn: `97800000${i}` }),
    );
    fakeAbs([{ id: "lib_books", items }]);
    const { status, body, statements } = await countedSync();
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ created: 1_500, pages: 3, total: 1_500 });
    // Each of the 3 pages: the read of its known abs_ids, the INSERT, the series and author
    // recomputes, and its books' library id (src/services/library-sync-page.ts, which reads nothing).
    // Once: the read of the series and author names known; the first page makes its series and
    // author rows and computes them. Then the two reads of what ABS no longer lists.
    // (Four-row INSERTs made it 385.) The read of the requests the sync may fulfil (none here).
    // And the LIBRARY_SYNC run's record: RECORD_STATEMENTS.
    expect(statements).toBe(3 * (4 + 1) + 1 + 4 + 2 + 1 + RECORD_STATEMENTS);
    expect(await count(books)).toBe(1_500);
    const [first, last] = [
      await db.select().from(books).where(eq(books.absId, "li_0")).get(),
      await db.select().from(books).where(eq(books.absId, "li_1499")).get(),
    ];
    expect(first).toMatchObject({
      title: "Book 0",
      series: "Long Saga",
      seriesNumber: "1",
      isbn: "978000000",
      status: "active",
      duplicateStatus: "none",
    });
    expect(first!.metadataSource).toMatchObject({ title: "Audiobookshelf", series: "Audiobookshelf" });
    expect(last).toMatchObject({ title: "Book 1499", seriesNumber: "1500", metadataCompletenessPercent: 90 });
    // In the order ABS listed them.
    const ids = await db.select({ absId: books.absId }).from(books).orderBy(asc(books.id)).limit(3);
    expect(ids.map((r) => r.absId)).toEqual(["li_0", "li_1", "li_2"]);
  });

  it("when every item changed, writes each page's books in one statement and their corrections in one more", {
    timeout: 60_000,
  }, async () => {
    const items = (publisher: string) => Array.from({ length: 600 }, (_, i) => absItem(`li_${i}`, { title: `Book ${i}`, publisher }));
    fakeAbs([{ id: "lib_books", items: items("Tor") }]);
    expect((await countedSync()).body.data).toMatchObject({ created: 600 });
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: items("Gollancz") }]);
    const { body, statements } = await countedSync();
    expect(body.data).toMatchObject({ created: 0, updated: 600, unchanged: 0, pages: 2 });
    // Per page: the read, the books, the corrections, two recomputes; the names known, once; then
    // the two archive reads; the read of the requests the sync may fulfil.
    // And the LIBRARY_SYNC run's record: RECORD_STATEMENTS.
    expect(statements).toBe(2 * 5 + 1 + 2 + 1 + RECORD_STATEMENTS);
    const rows = await db.select().from(metadataCorrections).orderBy(asc(metadataCorrections.id));
    expect(rows).toHaveLength(600);
    expect(rows[599]).toMatchObject({
      fieldName: "publisher",
      oldValue: "Tor",
      newValue: "Gollancz",
      source: "Auto-corrected",
      reason: "Audiobookshelf sync",
      correctedBy: expect.any(String),
    });
    expect(await db.select({ publisher: books.publisher }).from(books).where(eq(books.absId, "li_599")).get()).toEqual({
      publisher: "Gollancz",
    });
  });

  it("splits a page whose JSON would pass D1's string limit, and keeps multi-byte text intact", { timeout: 60_000 }, async () => {
    // 500 descriptions of 6,000 two-byte characters: about 6 MB of JSON for one page.
    const description = "Élan vital, naïve café. ".repeat(250);
    const items = Array.from({ length: 500 }, (_, i) => absItem(`li_${i}`, { title: `Livre ${i} — « été »`, description }));
    fakeAbs([{ id: "lib_books", items }]);
    const { body, statements } = await countedSync();
    expect(body.data).toMatchObject({ created: 500 });
    // About 7 KB of JSON a book, so 141 to a 1 MB slice: the page goes in 4 INSERTs.
    // The read, 4 INSERTs, 2 recomputes; the names known and the library id (the author row exists
    // from an earlier test); the 2 archive reads; the read of the requests the sync may fulfil.
    // And the LIBRARY_SYNC run's record: RECORD_STATEMENTS.
    expect(statements).toBe(1 + 4 + 2 + 2 + 2 + 1 + RECORD_STATEMENTS);
    const stored = await db.select().from(books).where(eq(books.absId, "li_499")).get();
    expect(stored).toMatchObject({ title: "Livre 499 — « été »", description: description.trim() });
    expect(await count(books)).toBe(500);
  });
});

describe("jsonSlices", () => {
  it("cuts by UTF-8 bytes, never inside a row, keeping the order", () => {
    const rows = ["é".repeat(10), "a".repeat(10), "é".repeat(10)];
    // 22, 12 and 22 bytes of JSON ("é" is two bytes): 40 characters, but 60 bytes with brackets and commas.
    const slices = jsonSlices(rows, 40);
    expect(slices.map((s) => JSON.parse(s))).toEqual([[rows[0], rows[1]], [rows[2]]]);
    expect(slices.every((s) => new TextEncoder().encode(s).length <= 40)).toBe(true);
    expect(slices.flatMap((s) => JSON.parse(s))).toEqual(rows);
    expect(JSON_SLICE_BYTES).toBeLessThanOrEqual(2_000_000);
  });
});
