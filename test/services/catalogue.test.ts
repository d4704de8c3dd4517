import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase, sessionDatabase } from "../../src/db/client";
import { books, catalogueSeries } from "../../src/db/schema";
import { audible } from "../../src/integrations/audible";
import { TASKS } from "../../src/scheduler/tasks";
import { CATALOGUE_SUBREQUESTS, REFRESH_DAYS, refreshCatalogue } from "../../src/services/catalogue/refresh";
import { countingD1 } from "../helpers";
import {
  AUDIBLE_URL,
  CATALOGUE_BOOKS,
  CATALOGUE_SERIES,
  type FakeBook,
  type FakeSeries,
  fakeAudible,
  SANDERSON,
} from "../integrations/fake-audible";

const db = primaryDatabase(env);
const config = parseConfig({ ...env, AUDIBLE_URL });
const client = () => audible(config);
const NOW = new Date("2026-12-01T03:00:00.000Z");
const DAY = 86_400_000;

/** A database counting every statement it sends, alone or in a batch. */
function countingDatabase() {
  let statements = 0;
  const counting = countingD1(() => statements++);
  return { db: sessionDatabase(counting.withSession("first-primary") as unknown as D1DatabaseSession), statements: () => statements };
}

beforeEach(async () => {
  await db.delete(catalogueSeries);
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

/** Audiobookshelf's view: the books owned, some with an ASIN, some without. */
async function syncedLibrary() {
  await db.insert(books).values([
    { title: "The Way of Kings", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "1", asin: "B003ZWFO7E" },
    { title: "Words of Radiance", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "2" },
    { title: "The Final Empire", author: SANDERSON, series: "Mistborn", seriesNumber: "1" },
    { title: "A Book Audible Lacks", author: "Nobody Known", series: "Unknown Saga", seriesNumber: "1" },
  ]);
}

describe("the series catalogue's refresh", () => {
  it("learns each series' members in order with their titles, through a book's ASIN or else a search; a series Audible lacks is unknown", async () => {
    await syncedLibrary();
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const result = await refreshCatalogue(db, client(), { now: NOW });
    expect(result).toMatchObject({ series_looked_up: 3, found: 2, unknown: 1, failed: 0, remaining: 0 });
    // Mistborn: search, members, titles; Stormlight: book, members, titles; Unknown Saga: one search.
    expect(result.calls).toBe(7);
    expect(fake.calls).toHaveLength(7);
    const rows = Object.fromEntries((await db.select().from(catalogueSeries)).map((r) => [r.name, r]));
    expect(rows["Stormlight Archive"]).toMatchObject({ status: "found", lookup: "asin", audibleTitle: "The Stormlight Archive", total: 5 });
    expect(rows["Stormlight Archive"]!.members.map((m) => [m.position, m.title])).toEqual([
      ["1", "The Way of Kings"],
      ["2", "Words of Radiance"],
      ["2.5", "Edgedancer"],
      ["3", "Oathbringer"],
      ["4", "Rhythm of War"],
      ["5", "Wind and Truth"],
    ]);
    expect(rows.Mistborn).toMatchObject({ status: "found", lookup: "search", total: 3 });
    expect(rows.Mistborn!.members.map((m) => m.title)).toEqual(["The Final Empire", "The Well of Ascension", "The Hero of Ages"]);
    expect(rows["Unknown Saga"]).toMatchObject({ status: "unknown", total: null, members: [], checkedAt: NOW.toISOString() });
  });

  it("asks nothing while the answers are fresh, and a cached series costs one call when they are stale", async () => {
    await syncedLibrary();
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, client(), { now: NOW });
    const fresh = await refreshCatalogue(db, client(), { now: new Date(NOW.getTime() + DAY) });
    expect(fresh).toMatchObject({ series_looked_up: 0, calls: 0, remaining: 0 });
    fake.calls.length = 0;
    const stale = await refreshCatalogue(db, client(), { now: new Date(NOW.getTime() + (REFRESH_DAYS + 1) * DAY) });
    // Each known series: its members only (titles known); the unknown one: its search again.
    expect(stale).toMatchObject({ series_looked_up: 3, calls: 3 });
    expect(fake.calls.map((c) => c.url.pathname).sort()).toEqual([
      "/1.0/catalog/products",
      "/1.0/catalog/products/B00SERIES1",
      "/1.0/catalog/products/B00SERIES2",
    ]);
  });

  it("asks an announced book's release date again at each refresh: Audible may move it", async () => {
    await syncedLibrary();
    const announced = (date: string) => CATALOGUE_BOOKS.map((b) => (b.title === "Wind and Truth" ? { ...b, release_date: date } : b));
    fakeAudible(announced("2027-05-04"), CATALOGUE_SERIES);
    await refreshCatalogue(db, client(), { now: NOW });
    fakeAudible(announced("2027-08-03"), CATALOGUE_SERIES);
    await refreshCatalogue(db, client(), { now: new Date(NOW.getTime() + (REFRESH_DAYS + 1) * DAY) });
    const stormlight = (await db.select().from(catalogueSeries)).find((r) => r.name === "Stormlight Archive");
    expect(stormlight!.members.find((m) => m.title === "Wind and Truth")?.release_date).toBe("2027-08-03");
  });

  it("stops cleanly on a 429, keeping what it learnt, and the next run resumes where it stopped", async () => {
    await syncedLibrary();
    // Calls 1-3 answer (Mistborn, first by name); the 4th is refused.
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES, { rateLimitFrom: 4 });
    const first = await refreshCatalogue(db, client(), { now: NOW });
    expect(first).toMatchObject({ series_looked_up: 1, found: 1, remaining: 2, stopped: expect.stringContaining("429") });
    expect((await db.select().from(catalogueSeries)).map((r) => r.name)).toEqual(["Mistborn"]);
    vi.restoreAllMocks();
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const second = await refreshCatalogue(db, client(), { now: new Date(NOW.getTime() + 300_000) });
    expect(second).toMatchObject({ series_looked_up: 2, remaining: 0 });
    expect(fake.calls.some((c) => c.url.pathname.endsWith("/B00SERIES2"))).toBe(false);
  });

  it("keeps an earlier answer when a later lookup fails, and asks again sooner", async () => {
    await syncedLibrary();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, client(), { now: NOW });
    vi.restoreAllMocks();
    const { fakeUpstream, json } = await import("../integrations/fake-upstream");
    fakeUpstream(() => json({ unexpected: true }));
    const later = new Date(NOW.getTime() + (REFRESH_DAYS + 1) * DAY);
    const failed = await refreshCatalogue(db, client(), { now: later });
    expect(failed).toMatchObject({ failed: 3, found: 0 });
    const stormlight = (await db.select().from(catalogueSeries)).find((r) => r.name === "Stormlight Archive")!;
    expect(stormlight).toMatchObject({ status: "found", total: 5, error: expect.stringContaining("unexpected shape") });
  });
});

describe("the refresh within the Free plan's budget", () => {
  /** A library of `n` series of 4 books, each owned book with its ASIN, and Audible knowing them all. */
  async function largeLibrary(n: number) {
    const fakeBooks: FakeBook[] = [];
    const fakeSeries: FakeSeries[] = [];
    const owned: (typeof books.$inferInsert)[] = [];
    for (let s = 1; s <= n; s++) {
      const seriesAsin = `BS${String(s).padStart(8, "0")}`;
      fakeSeries.push({ asin: seriesAsin, title: `Saga ${s}` });
      for (let b = 1; b <= 4; b++) {
        const asin = `BB${String(s * 10 + b).padStart(8, "0")}`;
        fakeBooks.push({ asin, title: `Saga ${s} Book ${b}`, author: "Many Authors", series: [{ asin: seriesAsin, sequence: String(b) }] });
        if (b <= 2)
          owned.push({ title: `Saga ${s} Book ${b}`, author: "Many Authors", series: `Saga ${s}`, seriesNumber: String(b), asin });
      }
    }
    for (let i = 0; i < owned.length; i += 5) await db.insert(books).values(owned.slice(i, i + 5));
    return fakeAudible(fakeBooks, fakeSeries);
  }

  it("never makes more than its share of subrequests or more D1 statements than series plus one, and spreads a library over ticks", async () => {
    const fake = await largeLibrary(30);
    let tick = NOW.getTime();
    const runs = [];
    for (let i = 0; i < 10; i++) {
      const before = fake.calls.length;
      const counted = countingDatabase();
      const result = await refreshCatalogue(counted.db, client(), { now: new Date(tick) });
      expect(fake.calls.length - before).toBeLessThanOrEqual(CATALOGUE_SUBREQUESTS);
      expect(fake.calls.length - before).toBe(result.calls);
      expect(counted.statements()).toBe(result.statements);
      expect(result.statements).toBeLessThanOrEqual(result.series_looked_up + 1);
      runs.push(result);
      if (result.remaining === 0) break;
      tick += 300_000;
    }
    // 3 calls a series: 11 series a tick within 35 calls.
    expect(runs.map((r) => r.series_looked_up)).toEqual([11, 11, 8]);
    expect(runs.map((r) => r.remaining)).toEqual([19, 8, 0]);
    expect(await db.$count(catalogueSeries)).toBe(30);
    expect((await db.select().from(catalogueSeries)).every((r) => r.status === "found" && r.total === 4)).toBe(true);
  });

  it("runs as the CATALOGUE task every tick, within the same budget", async () => {
    const fake = await largeLibrary(20);
    expect(TASKS.CATALOGUE).toMatchObject({ cron: "5-25/5,35-55/5 * * * *", requires: ["audible"] });
    const outcome = await TASKS.CATALOGUE.run({ db, env, config });
    expect(fake.calls.length).toBeLessThanOrEqual(CATALOGUE_SUBREQUESTS);
    expect(outcome).toMatchObject({ processed: 11, succeeded: 11, failed: 0, metadata: { remaining: 9, stopped: expect.any(String) } });
  });
});
