import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { authors, books, missingBooks } from "../../src/db/schema";
import { audible } from "../../src/integrations/audible";
import { TASKS } from "../../src/scheduler/tasks";
import { acquire } from "../../src/services/acquire";
import { watchAuthors } from "../../src/services/author-watch";
import { AUDIBLE_URL, CATALOGUE_BOOKS, CATALOGUE_SERIES, fakeAudible, SANDERSON } from "../integrations/fake-audible";

const db = primaryDatabase(env);
const config = parseConfig({ ...env, AUDIBLE_URL });
const NOW = new Date("2026-12-06T03:00:00.000Z");

beforeEach(async () => {
  await db.delete(missingBooks);
  await db.delete(books);
  await db.delete(authors);
});
afterEach(() => vi.restoreAllMocks());

/** A favourite author (two books owned), one book of theirs already a gap. */
async function favourite() {
  const [author] = await db.insert(authors).values({ name: SANDERSON, audiobooksOwned: 2 }).returning();
  await db.insert(books).values([
    { title: "The Way of Kings", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "1" },
    { title: "Oathbringer: Book Three of the Stormlight Archive", author: SANDERSON, series: "Stormlight Archive", seriesNumber: "3" },
  ]);
  await db.insert(missingBooks).values({
    title: "Words of Radiance",
    authorName: SANDERSON,
    seriesName: "Stormlight Archive",
    seriesNumber: "2",
    reasonMissing: "series_gap",
  });
  return author!;
}

describe("AUTHOR_WATCH from the Audible catalogue", () => {
  it("records a favourite author's books not in the library, released or announced, by title with their release date", async () => {
    const author = await favourite();
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const outcome = await watchAuthors(db, audible(config), NOW);
    expect(fake.calls).toHaveLength(1);
    expect(Object.fromEntries(fake.calls[0]!.url.searchParams)).toMatchObject({ author: SANDERSON, products_sort_by: "-ReleaseDate" });
    const rows = await db.select().from(missingBooks).where(eq(missingBooks.reasonMissing, "new_release"));
    // Owned ones, the gap already known and its dramatized edition are left out.
    expect(rows.map((r) => [r.title, r.releaseDate, r.titleSource, r.asin]).sort()).toEqual(
      [
        ["Edgedancer", "2014-03-04", "catalogue", "B076PNXMW2"],
        ["Isles of the Emberdark", "2027-03-02", "catalogue", "B0ISLES001"],
        ["Rhythm of War", "2020-11-17", "catalogue", "B08HWFLGZX"],
        ["The Final Empire", "2014-03-04", "catalogue", "B002UZMLXM"],
        ["The Hero of Ages", "2014-03-04", "catalogue", "B002V1A0WE"],
        ["The Well of Ascension", "2014-03-04", "catalogue", "B002V0QK4C"],
        ["Wind and Truth", "2024-12-06", "catalogue", "B0CWINDTRU"],
      ].sort(),
    );
    expect(rows.every((r) => r.authorId === author.id && r.titleCheckedAt === NOW.toISOString())).toBe(true);
    expect(outcome).toMatchObject({ processed: 1, metadata: { new_releases: 7, audible_calls: 1 } });

    // Again: nothing new.
    expect((await watchAuthors(db, audible(config), NOW)).metadata).toMatchObject({ new_releases: 0 });
  });

  it("does not search for an announced book before its release date", async () => {
    await favourite();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    await watchAuthors(db, audible(config), NOW);
    const announced = (await db.select().from(missingBooks).where(eq(missingBooks.title, "Isles of the Emberdark")))[0]!;
    const searched: string[] = [];
    const search = async (query: string) => {
      searched.push(query);
      return { releases: [], malformed: 0 };
    };
    const before = await acquire(db, search, {
      maxDownloads: 1,
      dryRun: true,
      prowlarrUrl: undefined,
      missingBookIds: [announced.id],
      now: NOW,
    });
    expect(before.skipped).toEqual([expect.objectContaining({ reason: "not_released", detail: expect.stringContaining("2027-03-02") })]);
    expect(searched).toEqual([]);
    const after = await acquire(db, search, {
      maxDownloads: 1,
      dryRun: true,
      prowlarrUrl: undefined,
      missingBookIds: [announced.id],
      now: new Date("2027-03-02T12:00:00Z"),
    });
    expect(after.searched).toBe(1);
    expect(searched).toEqual(["Isles of the Emberdark Sanderson"]);
  });

  it("is the AUTHOR_WATCH task, needing only the public catalogue", () => {
    expect(TASKS.AUTHOR_WATCH).toMatchObject({ cron: "0 3 * * SUN", requires: ["audible"] });
  });
});
