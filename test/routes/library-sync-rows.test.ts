import { env } from "cloudflare:workers";
import { eq, inArray, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { authors, books, metadataCorrections, missingBooks, series } from "../../src/db/schema";
import { runTask } from "../../src/scheduler/runs";
import { TASKS } from "../../src/scheduler/tasks";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";

/**
 * The library as rows, kept true by the sync (src/services/library-sync.ts and ./library-sync-page.ts):
 * series and authors made from what ABS lists, reappearing books active again, missing files not
 * owned, ABS_LIBRARY_ID's scope, and the guard against archiving most of the library.
 */

const db = primaryDatabase(env);
const abs = withEnv({ ABS_URL, ABS_TOKEN });

async function sync(api = abs, query = "") {
  const res = await api(`/api/library/sync${query}`, { method: "POST", auth: true });
  expect(res.status).toBe(200);
  return (await res.json<any>()).data;
}

const seriesRow = (name: string) => db.select().from(series).where(eq(series.name, name)).get();
const authorRow = (name: string) => db.select().from(authors).where(eq(authors.name, name)).get();
const byAbsId = (absId: string) => db.select().from(books).where(eq(books.absId, absId)).get();

beforeEach(async () => {
  await db.delete(missingBooks);
  await db.delete(metadataCorrections);
  await db.delete(books);
  await db.delete(series);
  await db.delete(authors);
});
afterEach(() => vi.restoreAllMocks());

describe("a sync makes the series and authors of what it brings in", () => {
  it("every series of a book with its position, and both authors of 'A, B'", async () => {
    fakeAbs([
      {
        id: "lib_books",
        items: [
          absItem("li_omens", { authorName: "Terry Pratchett, Neil Gaiman", seriesName: "Discworld Extras #2.5, Gaiman Standalones #1" }),
          absItem("li_colour", { authorName: "Terry Pratchett", seriesName: "Discworld #1" }),
          absItem("li_light", { authorName: "Terry Pratchett", seriesName: "Discworld #2" }),
        ],
      },
    ]);
    expect(await sync()).toMatchObject({ created: 3, series_created: 3, authors_created: 2 });
    expect(await seriesRow("Discworld")).toMatchObject({ author: "Terry Pratchett", booksOwned: 2, totalBooksInSeries: null });
    expect(await seriesRow("Discworld Extras")).toMatchObject({ author: "Terry Pratchett", booksOwned: 1 });
    expect(await seriesRow("Gaiman Standalones")).toMatchObject({ booksOwned: 1 });
    expect(await authorRow("Terry Pratchett")).toMatchObject({ audiobooksOwned: 3 });
    expect(await authorRow("Neil Gaiman")).toMatchObject({ audiobooksOwned: 1 });
    expect(await authorRow("Terry Pratchett, Neil Gaiman")).toBeUndefined();
    const gaiman = await (await abs(`/api/authors/${(await authorRow("Neil Gaiman"))!.id}`, { auth: true })).json<any>();
    expect(gaiman.data.books.map((b: { title: string }) => b.title)).toEqual(["Title li_omens"]);

    const listed = await (await abs("/api/series?per_page=50", { auth: true })).json<any>();
    expect(listed.data.series.map((s: { name: string }) => s.name).sort()).toEqual(["Discworld", "Discworld Extras", "Gaiman Standalones"]);
    // A second sync makes nothing twice.
    expect(await sync()).toMatchObject({ unchanged: 3, series_created: 0, authors_created: 0 });
    expect(await db.select({ n: sql<number>`count(*)` }).from(series).get()).toEqual({ n: 3 });
  });

  it("counts a book in two series in both, for completion and gaps", async () => {
    fakeAbs([
      {
        id: "lib_books",
        items: [
          absItem("li_a1", { seriesName: "Alpha #1" }),
          absItem("li_both", { seriesName: "Alpha #2, Beta #1" }),
          absItem("li_b3", { seriesName: "Beta #3" }),
        ],
      },
    ]);
    await sync();
    await db
      .update(series)
      .set({ totalBooksInSeries: 3 })
      .where(inArray(series.name, ["Alpha", "Beta"]));
    const analyzed = await abs("/api/gaps/analyze", { method: "POST", auth: true });
    expect(analyzed.status).toBe(200);
    const gaps = await db.select({ series: missingBooks.seriesName, n: missingBooks.seriesNumber }).from(missingBooks);
    expect(gaps.map((g) => `${g.series} #${g.n}`).sort()).toEqual(["Alpha #3", "Beta #2"]);
    expect(await seriesRow("Beta")).toMatchObject({ booksOwned: 2, booksMissing: 1 });
    // And it is listed in both, at its place in each.
    const books = async (name: string) => {
      const detail = await (await abs(`/api/series/${(await seriesRow(name))!.id}`, { auth: true })).json<any>();
      return detail.data.books.map((b: { series_number: string; title: string }) => `${b.series_number} ${b.title}`);
    };
    expect(await books("Alpha")).toEqual(["1 Title li_a1", "2 Title li_both"]);
    expect(await books("Beta")).toEqual(["1 Title li_both", "3 Title li_b3"]);
    const byName = await (await abs("/api/books/series/Beta", { auth: true })).json<any>();
    expect(byName.data.books.map((b: { title: string }) => b.title)).toEqual(["Title li_both", "Title li_b3"]);
  });
});

describe("a sync keeps the library true", () => {
  it("a book archived because ABS stopped listing it is active again when it reappears, and owned again", async () => {
    const items = [absItem("li_1", { seriesName: "Saga #1" }), absItem("li_2", { seriesName: "Saga #2" })];
    fakeAbs([{ id: "lib_books", items }]);
    await sync();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [items[0]] }]);
    expect(await sync()).toMatchObject({ archived: 1 });
    expect(await seriesRow("Saga")).toMatchObject({ booksOwned: 1 });
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items }]);
    expect(await sync()).toMatchObject({ reactivated: 1, archived: 0, unchanged: 2 });
    expect(await byAbsId("li_2")).toMatchObject({ status: "active" });
    expect(await seriesRow("Saga")).toMatchObject({ booksOwned: 2 });
  });

  it("a book whose files vanished (isMissing) is kept and shown as such but not owned, and owned again when they return", async () => {
    const present = [absItem("li_ok", { seriesName: "Saga #1" }), absItem("li_gone", { seriesName: "Saga #2" })];
    fakeAbs([{ id: "lib_books", items: present }]);
    await sync();
    vi.restoreAllMocks();
    const missing = [present[0], absItem("li_gone", { seriesName: "Saga #2" }, 36_000, { isMissing: true, isInvalid: true })];
    fakeAbs([{ id: "lib_books", items: missing }]);
    expect(await sync()).toMatchObject({ missing_files: 1, archived: 0 });
    const gone = await byAbsId("li_gone");
    expect(gone).toMatchObject({ status: "active", filesMissing: true });
    expect(await seriesRow("Saga")).toMatchObject({ booksOwned: 1 });
    expect(await authorRow("Jane Author")).toMatchObject({ audiobooksOwned: 1 });
    const answer = await (await abs(`/api/books/${gone!.id}`, { auth: true })).json<any>();
    expect(answer.data).toMatchObject({ status: "active", files_missing: true });

    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: present }]);
    expect(await sync()).toMatchObject({ missing_files: 0 });
    expect(await byAbsId("li_gone")).toMatchObject({ filesMissing: false });
    expect(await seriesRow("Saga")).toMatchObject({ booksOwned: 2 });
  });

  it("a sync scoped by ABS_LIBRARY_ID archives only that library's books", async () => {
    const libraries = [
      { id: "lib_a", items: [absItem("li_a1"), absItem("li_a2")] },
      { id: "lib_b", items: [absItem("li_b1"), absItem("li_b2")] },
    ];
    fakeAbs(libraries);
    await sync();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_a", items: [absItem("li_a1")] }, libraries[1]!]);
    const scoped = withEnv({ ABS_URL, ABS_TOKEN, ABS_LIBRARY_ID: "lib_a" });
    expect(await sync(scoped)).toMatchObject({ libraries: 1, total: 1, archived: 1 });
    expect(await byAbsId("li_a2")).toMatchObject({ status: "archived" });
    for (const id of ["li_a1", "li_b1", "li_b2"]) expect(await byAbsId(id)).toMatchObject({ status: "active" });
    expect(await byAbsId("li_b1")).toMatchObject({ absLibraryId: "lib_b" });
  });

  it("archives nothing when a run would archive more than 10 % of the library, unless forced, and says so", async () => {
    const many = Array.from({ length: 30 }, (_, i) => absItem(`li_${i}`));
    fakeAbs([{ id: "lib_books", items: many }]);
    await sync();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: many.slice(0, 5) }]);
    const guarded = await sync();
    expect(guarded).toMatchObject({ archived: 0, archive_skipped: expect.stringContaining("25 of the 30") });
    expect(guarded.archive_skipped).toContain("force");
    const config = parseConfig({ ...env, ABS_URL, ABS_TOKEN });
    const run = await runTask({ db, env, config }, TASKS.LIBRARY_SYNC, { kind: "manual", actor: "test" });
    expect(run).toMatchObject({
      status: "completed",
      task_metadata: expect.objectContaining({ archived: 0, archive_skipped: guarded.archive_skipped }),
    });
    expect(await db.select({ n: sql<number>`count(*)` }).from(books).where(eq(books.status, "active")).get()).toEqual({ n: 30 });

    expect(await sync(abs, "?force=true")).toMatchObject({ archived: 25 });
    expect(await db.select({ n: sql<number>`count(*)` }).from(books).where(eq(books.status, "active")).get()).toEqual({ n: 5 });
  });

  it("may always archive one book, whatever the library's size", async () => {
    const items = [absItem("li_x"), absItem("li_y")];
    fakeAbs([{ id: "lib_books", items }]);
    await sync();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [items[0]] }]);
    expect(await sync()).toMatchObject({ archived: 1 });
  });
});
