import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { missingBooks, series } from "../../src/db/schema";
import { unique } from "../fixtures";
import { withEnv } from "../helpers";
import { fakeMamProwlarr, PROWLARR, prowlarrRelease } from "../integrations/fake-prowlarr";
import { fakeUpstream, json } from "../integrations/fake-upstream";

const db = primaryDatabase(env);
const post = async (body: unknown) => {
  const res = await withEnv(PROWLARR)("/api/gaps/acquire", { method: "POST", auth: true, json: body });
  return { status: res.status, body: (await res.json()) as any };
};

const SANDERSON = "Brandon Sanderson";
const GB = 1024 ** 3;

/** A series with gaps whose real titles the catalogue gave ("Oathbringer", not "Stormlight #3"). */
async function stormlight() {
  const name = unique("The Stormlight Archive");
  const row = (await db.insert(series).values({ name, author: SANDERSON, totalBooksInSeries: 5 }).returning().get())!;
  const gap = (title: string, n: string) => ({
    seriesId: row.id,
    title,
    authorName: SANDERSON,
    seriesName: name,
    seriesNumber: n,
    reasonMissing: "series_gap" as const,
    titleSource: "catalogue" as const,
    titleCheckedAt: "2026-12-01T03:00:00.000Z",
  });
  const gaps = await db
    .insert(missingBooks)
    .values([gap("Oathbringer", "3"), gap("Rhythm of War", "4")])
    .returning();
  return { row, name, gaps };
}

/** MyAnonamouse's releases for the gaps: the right ones, and the ones to refuse. */
const TRACKER = [
  { title: "Oathbringer", author: SANDERSON, options: { seeders: 4 } },
  { title: "Oathbringer", author: SANDERSON, options: { seeders: 2, free: true, vip: true } },
  { title: "Oathbringer (Abridged)", author: SANDERSON, options: { seeders: 90, filetype: "MP3" } },
  { title: "Oathbringer", author: "Brandon Mull", options: { seeders: 60 } },
  { title: "Oathbringer: A Study Guide to Sanderson", author: "Jane Doe", options: { seeders: 50 } },
  { title: "The Stormlight Archive Books 1-4: Oathbringer and more", author: SANDERSON, options: { seeders: 70, size: 6 * GB } },
  { title: "Rhythm of War", author: SANDERSON, options: { seeders: 8 } },
];

beforeEach(async () => {
  await db.delete(missingBooks);
});
afterEach(() => vi.restoreAllMocks());

describe("acquisition on MyAnonamouse's real release names", () => {
  it("searches by title and author, chooses the right release, refuses the wrong author, the abridged edition and the pack, and says why", async () => {
    await stormlight();
    // The same book, also found as a favourite author's new release: wanted twice, searched once.
    await db
      .insert(missingBooks)
      .values({ title: "Rhythm of War", authorName: SANDERSON, reasonMissing: "new_release", titleSource: "release" });
    const fake = fakeMamProwlarr(TRACKER);
    const { status, body } = await post({ dry_run: true });
    expect(status, JSON.stringify(body)).toBe(200);
    const result = body.data;
    expect(fake.queries).toEqual(["Oathbringer Sanderson", "Rhythm of War Sanderson"]);
    expect(result.searched).toBe(2);
    const oath = result.decisions[0];
    expect(oath).toMatchObject({
      wanted: { title: "Oathbringer", author: SANDERSON, position: "3", title_source: "catalogue" },
      query: "Oathbringer Sanderson",
      query_reused: false,
    });
    // Brandon Mull's "Oathbringer" never comes back: MyAnonamouse matched "Sanderson" in none of its fields.
    expect(oath.releases.map((d: any) => [d.title, d.reason, d.rank])).toEqual([
      ["Oathbringer by Brandon Sanderson [ENG / M4B] [VIP]", "title", 1],
      ["Oathbringer by Brandon Sanderson [ENG / M4B]", "title", 2],
      ["Oathbringer (Abridged) by Brandon Sanderson [ENG / MP3]", "abridged", null],
      ["Oathbringer: A Study Guide to Sanderson by Jane Doe [ENG / M4B]", "author_mismatch", null],
      ["The Stormlight Archive Books 1-4: Oathbringer and more by Brandon Sanderson [ENG / M4B]", "omnibus_pack", null],
    ]);
    expect(result.decisions[2]).toMatchObject({
      wanted: { title: "Rhythm of War", title_source: "release" },
      query: "Rhythm of War Sanderson",
      query_reused: true,
    });
    expect(result.queued.map((q: any) => [q.wanted, q.release.title, q.release.freeleech])).toEqual([
      ["Oathbringer", "Oathbringer by Brandon Sanderson [ENG / M4B] [VIP]", true],
      ["Rhythm of War", "Rhythm of War by Brandon Sanderson [ENG / M4B]", false],
      ["Rhythm of War", "Rhythm of War by Brandon Sanderson [ENG / M4B]", false],
    ]);
  });

  it("refuses a release in another language than RELEASE_LANGUAGE (English by default), saying so in the dry run", async () => {
    await stormlight();
    const tracker = [
      { title: "Oathbringer", author: SANDERSON, options: { lang: "GER", seeders: 200, free: true } },
      { title: "Oathbringer", author: SANDERSON, options: { lang: "FRE", seeders: 150 } },
      { title: "Oathbringer", author: SANDERSON, options: { seeders: 3 } },
    ];
    fakeMamProwlarr(tracker);
    const { status, body } = await post({ dry_run: true });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data.decisions[0].releases.map((d: any) => [d.title, d.reason, d.rank, d.detail])).toEqual([
      ["Oathbringer by Brandon Sanderson [ENG / M4B]", "title", 1, 'names "Oathbringer"'],
      ["Oathbringer by Brandon Sanderson [GER / M4B]", "language", null, "in GER, not ENG (RELEASE_LANGUAGE)"],
      ["Oathbringer by Brandon Sanderson [FRE / M4B]", "language", null, "in FRE, not ENG (RELEASE_LANGUAGE)"],
    ]);
    expect(body.data.queued[0].release.title).toBe("Oathbringer by Brandon Sanderson [ENG / M4B]");

    // Another preferred language, and no filter at all.
    vi.restoreAllMocks();
    fakeMamProwlarr(tracker);
    const german = await withEnv({ ...PROWLARR, RELEASE_LANGUAGE: "de" })("/api/gaps/acquire", {
      method: "POST",
      auth: true,
      json: { dry_run: true },
    });
    const germanPlan = ((await german.json()) as any).data;
    expect(germanPlan.queued[0].release.title).toBe("Oathbringer by Brandon Sanderson [GER / M4B]");
    expect(germanPlan.decisions[0].releases.filter((d: any) => d.reason === "language")).toHaveLength(2);
    vi.restoreAllMocks();
    fakeMamProwlarr(tracker);
    const any = await withEnv({ ...PROWLARR, RELEASE_LANGUAGE: "any" })("/api/gaps/acquire", {
      method: "POST",
      auth: true,
      json: { dry_run: true },
    });
    expect(((await any.json()) as any).data.decisions[0].releases.every((d: any) => d.reason === "title")).toBe(true);
  });

  it("takes a release whose title holds half of a surrogate pair: the title is cleaned, its magnet built, never a 500", async () => {
    await stormlight();
    // Prowlarr's JSON may escape a lone surrogate ("\\ud800"); encodeURIComponent throws on one.
    const hashOnly = {
      ...prowlarrRelease("Oathbringer by Brandon Sanderson [ENG / M4B]", { downloadUrl: undefined, infoHash: "c".repeat(40) }),
      title: "Oathbringer by Brandon Sanderson\ud800 [ENG / M4B]",
    };
    fakeUpstream(() => json([hashOnly]));
    const { status, body } = await post({});
    expect(status, JSON.stringify(body)).toBe(200);
    const queued = body.data.queued[0];
    expect(queued.release.title).toBe("Oathbringer by Brandon Sanderson\ufffd [ENG / M4B]");
    expect(queued.download_id).toEqual(expect.any(Number));
  });

  it("aims a run at one series, or at chosen gaps, and says which chosen ones are not open", async () => {
    const { row, gaps } = await stormlight();
    const other = await stormlight();
    const fake = fakeMamProwlarr(TRACKER);
    const bySeries = (await post({ dry_run: true, series_id: row.id })).body.data;
    expect(bySeries.decisions.map((d: any) => d.missing_book_id)).toEqual(gaps.map((g) => g.id));
    expect(bySeries.decisions.some((d: any) => other.gaps.some((g) => g.id === d.missing_book_id))).toBe(false);

    fake.queries.length = 0;
    const chosen = (await post({ dry_run: true, missing_book_ids: [gaps[1]!.id, 999_999] })).body.data;
    expect(chosen.decisions.map((d: any) => d.missing_book_id)).toEqual([gaps[1]!.id]);
    expect(fake.queries).toEqual(["Rhythm of War Sanderson"]);
    expect(chosen.skipped).toEqual([{ missing_book_id: 999_999, wanted: "", reason: "not_open", detail: expect.any(String) }]);

    expect((await post({ series_id: 999_999 })).status).toBe(404);
    expect((await post({ missing_book_ids: [] })).status).toBe(422);
  });
});
