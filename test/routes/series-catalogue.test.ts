import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { books, catalogueSeries, missingBooks, series } from "../../src/db/schema";
import { audible } from "../../src/integrations/audible";
import { TASKS } from "../../src/scheduler/tasks";
import { refreshCatalogue } from "../../src/services/catalogue/refresh";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";
import { AUDIBLE_URL, CATALOGUE_BOOKS, CATALOGUE_SERIES, fakeAudible, SANDERSON } from "../integrations/fake-audible";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";

const db = primaryDatabase(env);
const api = async (path: string, options: { method?: string; json?: unknown } = {}) => {
  const res = await withEnv(PROWLARR)(path, { auth: true, ...options });
  return { status: res.status, body: (await res.json()) as any };
};
const REFRESHED = new Date("2026-12-01T03:00:00.000Z");

beforeEach(async () => {
  await db.delete(missingBooks);
  await db.delete(catalogueSeries);
  await db.delete(books);
  await db.delete(series);
});
afterEach(() => vi.restoreAllMocks());

/** The library as a sync leaves it: books with ABS's series and positions, series rows with no total. */
async function syncedLibrary() {
  await db.insert(books).values([
    { title: "The Way of Kings", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "1", asin: "B003ZWFO7E" },
    { title: "Oathbringer", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "3" },
    { title: "The Final Empire", author: SANDERSON, series: "Mistborn", seriesNumber: "1" },
    { title: "First of Two", author: "Nobody Known", series: "Unknown Saga", seriesNumber: "1" },
    { title: "Third of Two", author: "Nobody Known", series: "Unknown Saga", seriesNumber: "3" },
  ]);
  const rows = await db
    .insert(series)
    .values([
      { name: "Stormlight Archive", author: SANDERSON },
      { name: "Mistborn", author: SANDERSON },
      { name: "Unknown Saga", author: "Nobody Known" },
    ])
    .returning();
  return Object.fromEntries(rows.map((r) => [r.name, r.id]));
}

async function gapsOf(seriesId: number) {
  const { body } = await api(`/api/gaps/missing?series_id=${seriesId}&resolved=false`);
  return body.data.missing_books as any[];
}

describe("series that know themselves", () => {
  it("gives each series its real total and its missing books by title, with where each fact came from and when", async () => {
    const ids = await syncedLibrary();
    // Before the catalogue is asked: only the holes between owned positions, titled by their place.
    expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);
    expect((await gapsOf(ids["Stormlight Archive"]!)).map((g) => [g.series_number, g.title, g.title_source])).toEqual([
      ["2", "Stormlight Archive #2", "library"],
    ]);

    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: REFRESHED });
    expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);

    const stormlight = (await api(`/api/series/${ids["Stormlight Archive"]}`)).body.data;
    expect(stormlight).toMatchObject({
      total_books_in_series: 5,
      total_source: "catalogue",
      total_checked_at: REFRESHED.toISOString(),
      books_owned: 2,
      books_missing: 3,
    });
    expect((await gapsOf(ids["Stormlight Archive"]!)).map((g) => [g.series_number, g.title, g.title_source, g.title_checked_at])).toEqual([
      ["2", "Words of Radiance", "catalogue", REFRESHED.toISOString()],
      ["4", "Rhythm of War", "catalogue", REFRESHED.toISOString()],
      ["5", "Wind and Truth", "catalogue", REFRESHED.toISOString()],
    ]);
    expect((await gapsOf(ids.Mistborn!)).map((g) => [g.title, g.release_date])).toEqual([
      ["The Well of Ascension", "2014-03-04"],
      ["The Hero of Ages", "2014-03-04"],
    ]);
    // A series Audible does not know: its total is unknown, its internal gap titled by its place.
    expect((await api(`/api/series/${ids["Unknown Saga"]}`)).body.data).toMatchObject({ total_books_in_series: null, total_source: null });
    expect((await gapsOf(ids["Unknown Saga"]!)).map((g) => [g.title, g.title_source])).toEqual([["Unknown Saga #2", "library"]]);
  });

  it("keeps a total set by hand over the catalogue's, and the positions past the catalogue's titled by their place", async () => {
    const ids = await syncedLibrary();
    expect((await api(`/api/series/${ids.Mistborn}`, { method: "PUT", json: { total_books_in_series: 4 } })).status).toBe(200);
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: REFRESHED });
    await api("/api/gaps/analyze", { method: "POST" });
    expect((await api(`/api/series/${ids.Mistborn}`)).body.data).toMatchObject({ total_books_in_series: 4, total_source: "hand" });
    expect((await gapsOf(ids.Mistborn!)).map((g) => [g.title, g.title_source])).toEqual([
      ["The Well of Ascension", "catalogue"],
      ["The Hero of Ages", "catalogue"],
      ["Mistborn #4", "library"],
    ]);
  });

  it("keeps a missing book's title set by hand (with its ASIN and date) over every catalogue refresh and analysis after it", async () => {
    const ids = await syncedLibrary();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: REFRESHED });
    await api("/api/gaps/analyze", { method: "POST" });
    const [gap] = await gapsOf(ids["Stormlight Archive"]!);
    expect(gap).toMatchObject({ series_number: "2", title: "Words of Radiance", title_source: "catalogue" });

    const set = await api(`/api/gaps/missing/${gap.id}`, {
      method: "PUT",
      json: { title: "Words of Radiance (Graphic Audio)", asin: "B0GRAPHIC1", release_date: "2015-02-01" },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.data).toMatchObject({
      id: gap.id,
      title: "Words of Radiance (Graphic Audio)",
      asin: "B0GRAPHIC1",
      release_date: "2015-02-01",
      title_source: "hand",
    });
    expect(Date.parse(set.body.data.title_checked_at)).toBeGreaterThan(REFRESHED.getTime());

    // A later refresh and analysis leave it as set.
    await db.delete(catalogueSeries);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: new Date("2026-12-20T03:00:00.000Z") });
    expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);
    expect(
      (await gapsOf(ids["Stormlight Archive"]!)).map((g) => [g.series_number, g.title, g.title_source, g.asin, g.release_date]),
    ).toEqual([
      ["2", "Words of Radiance (Graphic Audio)", "hand", "B0GRAPHIC1", "2015-02-01"],
      ["4", "Rhythm of War", "catalogue", null, "2020-11-17"],
      ["5", "Wind and Truth", "catalogue", null, "2024-12-06"],
    ]);
    // Acquisition searches for it.
    const fake = fakeMamProwlarr([]);
    await api("/api/gaps/acquire", { method: "POST", json: { dry_run: true, missing_book_ids: [gap.id] } });
    expect(fake.queries).toEqual(["Words of Radiance (Graphic Audio) Sanderson"]);

    // Only the title is required; null clears the ASIN; bad input is a 422, an unknown gap a 404.
    expect(
      (await api(`/api/gaps/missing/${gap.id}`, { method: "PUT", json: { title: "Words of Radiance", asin: null } })).body.data,
    ).toMatchObject({
      title: "Words of Radiance",
      asin: null,
      release_date: "2015-02-01",
      title_source: "hand",
    });
    for (const json of [
      {},
      { title: "" },
      { title: "T", asin: "not-an-asin" },
      { title: "T", release_date: "2015-13-45" },
      { title: "T", source: "x" },
    ]) {
      expect((await api(`/api/gaps/missing/${gap.id}`, { method: "PUT", json })).status, JSON.stringify(json)).toBe(422);
    }
    expect((await api("/api/gaps/missing/999999", { method: "PUT", json: { title: "T" } })).status).toBe(404);
  });

  it("keeps a missing book set by hand when the catalogue later lists fewer books than its place", async () => {
    const ids = await syncedLibrary();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: REFRESHED });
    await api("/api/gaps/analyze", { method: "POST" });
    const fifth = (await gapsOf(ids["Stormlight Archive"]!)).find((g) => g.series_number === "5");
    const set = await api(`/api/gaps/missing/${fifth.id}`, { method: "PUT", json: { title: "Wind and Truth (Dramatized)" } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);

    // Audible stops listing the fifth book: the series' total falls to 4, and the untouched gaps past it go.
    vi.restoreAllMocks();
    fakeAudible(
      CATALOGUE_BOOKS.filter((b) => b.title !== "Wind and Truth"),
      CATALOGUE_SERIES,
    );
    await db.delete(catalogueSeries);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: new Date("2026-12-20T03:00:00.000Z") });
    expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);
    expect((await api(`/api/series/${ids["Stormlight Archive"]}`)).body.data).toMatchObject({ total_books_in_series: 4 });
    expect((await gapsOf(ids["Stormlight Archive"]!)).map((g) => [g.series_number, g.title, g.title_source])).toEqual([
      ["2", "Words of Radiance", "catalogue"],
      ["4", "Rhythm of War", "catalogue"],
      ["5", "Wind and Truth (Dramatized)", "hand"],
    ]);
  });

  it("acquires each missing book by its real title on MyAnonamouse's release names", async () => {
    const ids = await syncedLibrary();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await refreshCatalogue(db, audible(parseConfig({ ...env, AUDIBLE_URL })), { now: REFRESHED });
    await api("/api/gaps/analyze", { method: "POST" });
    vi.restoreAllMocks();
    const mam = fakeMamProwlarr([
      { title: "Words of Radiance", author: SANDERSON },
      { title: "Words of Radiance (Abridged)", author: SANDERSON, options: { seeders: 99 } },
      { title: "Words of Radiance", author: "Brandon Mull", options: { seeders: 80 } },
      { title: "Stormlight Archive Books 1-3: Words of Radiance et al.", author: SANDERSON, options: { size: 5 * 1024 ** 3 } },
    ]);
    const { status, body } = await api("/api/gaps/acquire", {
      method: "POST",
      json: { dry_run: true, series_id: ids["Stormlight Archive"] },
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(mam.queries).toEqual(["Words of Radiance Sanderson", "Rhythm of War Sanderson", "Wind and Truth Sanderson"]);
    const words = body.data.decisions[0];
    expect(words.wanted).toMatchObject({ title: "Words of Radiance", title_source: "catalogue" });
    expect(words.releases.map((d: any) => [d.reason, d.accepted])).toEqual([
      ["title", true],
      ["abridged", false],
      ["omnibus_pack", false],
    ]);
    expect(body.data.queued.map((q: any) => q.release.title)).toEqual(["Words of Radiance by Brandon Sanderson [ENG / M4B]"]);
  });
});

describe("the loop on a synced library, no hand entry", () => {
  it("syncs Audiobookshelf's short form, learns each series from Audible, finds the gaps by title, picks MyAnonamouse's right release and records a favourite's new book", async () => {
    fakeAbs([
      {
        id: "lib_books",
        items: [
          absItem("li_kings", {
            title: "The Way of Kings",
            authorName: SANDERSON,
            seriesName: "The Stormlight Archive #1",
            asin: "B003ZWFO7E",
          }),
          absItem("li_oath", { title: "Oathbringer", authorName: SANDERSON, seriesName: "The Stormlight Archive #3", asin: null }),
          absItem("li_empire", { title: "The Final Empire", authorName: SANDERSON, seriesName: "Mistborn #1", asin: null }),
        ],
      },
    ]);
    const synced = await withEnv({ ...PROWLARR, ABS_URL, ABS_TOKEN })("/api/library/sync", { method: "POST", auth: true });
    expect(synced.status).toBe(200);
    vi.restoreAllMocks();

    const audibleFake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const config = parseConfig({ ...env, AUDIBLE_URL });
    const refreshed = await TASKS.CATALOGUE.run({ db, env, config });
    expect(refreshed).toMatchObject({ metadata: { found: 2, remaining: 0 } });
    expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);
    const stormlight = (await db.select().from(series)).find((s) => s.name === "The Stormlight Archive")!;
    expect(stormlight).toMatchObject({ totalBooksInSeries: 5, totalSource: "catalogue" });
    expect((await gapsOf(stormlight.id)).map((g) => g.title)).toEqual(["Words of Radiance", "Rhythm of War", "Wind and Truth"]);

    // AUTHOR_WATCH: the favourite's announced book, by title with its date.
    const watched = await TASKS.AUTHOR_WATCH.run({ db, env, config });
    expect(watched.metadata).toMatchObject({ new_releases: expect.any(Number) });
    const announced = (await db.select().from(missingBooks)).find((g) => g.title === "Isles of the Emberdark");
    expect(announced).toMatchObject({ reasonMissing: "new_release", releaseDate: "2027-03-02", titleSource: "catalogue" });
    expect(audibleFake.calls.length).toBeLessThanOrEqual(35);
    vi.restoreAllMocks();

    fakeMamProwlarr([
      { title: "Words of Radiance", author: SANDERSON },
      { title: "Words of Radiance (Abridged)", author: SANDERSON, options: { seeders: 99 } },
      { title: "Stormlight Archive Books 1-3", author: SANDERSON, options: { size: 5 * 1024 ** 3 } },
    ]);
    const { body } = await api("/api/gaps/acquire", {
      method: "POST",
      json: { dry_run: true, series_id: stormlight.id, max_downloads: 1 },
    });
    expect(body.data.queued.map((q: any) => [q.wanted, q.release.title])).toEqual([
      ["Words of Radiance", "Words of Radiance by Brandon Sanderson [ENG / M4B]"],
    ]);
  });
});
