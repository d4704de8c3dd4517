import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, metadataCorrections } from "../../src/db/schema";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, absItemExpanded, fakeAbs } from "../integrations/fake-abs";

/** What an Audiobookshelf item carries beyond the ten metadata fields: subtitle, genres, every series. */

const db = primaryDatabase(env);
const abs = withEnv({ ABS_URL, ABS_TOKEN });

async function sync() {
  const res = await abs("/api/library/sync", { method: "POST", auth: true });
  return (await res.json<any>()).data;
}
async function bookAnswer(absId: string) {
  const row = await db.select({ id: books.id }).from(books).where(eq(books.absId, absId)).get();
  return (await (await abs(`/api/books/${row!.id}`, { auth: true })).json<any>()).data;
}
const correctionCount = async () => (await db.select({ n: sql<number>`count(*)` }).from(metadataCorrections).get())!.n;

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

describe("subtitle, genres and further series from Audiobookshelf", () => {
  it("stores them and answers them with the book; the first series stays the book's series", async () => {
    fakeAbs([
      {
        id: "lib_books",
        items: [
          absItemExpanded("li_omens", {
            title: "Good Omens",
            subtitle: "The Nice and Accurate Prophecies of Agnes Nutter, Witch",
            genres: ["Fantasy", " Humor ", "fantasy", ""],
            series: [
              { id: "s1", name: "Discworld Extras", sequence: "2.5" },
              { id: "s2", name: "Gaiman Standalones", sequence: "1" },
              { id: "s3", name: "BBC Radio Adaptations", sequence: null },
            ],
          }),
          absItemExpanded("li_plain", { title: "Plain", subtitle: null, genres: [], series: [] }),
        ],
      },
    ]);
    expect(await sync()).toMatchObject({ created: 2 });
    expect(await bookAnswer("li_omens")).toMatchObject({
      title: "Good Omens",
      subtitle: "The Nice and Accurate Prophecies of Agnes Nutter, Witch",
      genres: ["Fantasy", "Humor"],
      series: "Discworld Extras",
      series_number: "2.5",
      additional_series: [
        { name: "Gaiman Standalones", sequence: "1" },
        { name: "BBC Radio Adaptations", sequence: null },
      ],
      metadata_source: expect.objectContaining({
        subtitle: "Audiobookshelf",
        genres: "Audiobookshelf",
        additional_series: "Audiobookshelf",
      }),
    });
    expect(await bookAnswer("li_plain")).toMatchObject({ subtitle: null, genres: [], series: null, additional_series: [] });
  });

  it("reads every series of a minified item's seriesName (ABS joins them with ', ')", async () => {
    const minified = absItem("li_min", { series: undefined, seriesName: "The Expanse #1.5, Orbit Novellas #3, Love, Death #2" });
    fakeAbs([{ id: "lib_books", items: [minified] }]);
    await sync();
    expect(await bookAnswer("li_min")).toMatchObject({
      series: "The Expanse",
      series_number: "1.5",
      additional_series: [
        { name: "Orbit Novellas", sequence: "3" },
        { name: "Love, Death", sequence: "2" },
      ],
    });
  });

  it("writes nothing when they are the same again, and updates the book when the genres change", async () => {
    const item = (genres: string[]) =>
      absItem("li_g", {
        subtitle: "A Tale",
        genres,
        series: [
          { id: "s", name: "Saga", sequence: "1" },
          { id: "t", name: "Other", sequence: "4" },
        ],
      });
    fakeAbs([{ id: "lib_books", items: [item(["Fantasy", "Adventure"])] }]);
    await sync();
    const stored = await db.select().from(books).where(eq(books.absId, "li_g")).get();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [item(["Fantasy", "Adventure"])] }]);
    expect(await sync()).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await db.select().from(books).where(eq(books.absId, "li_g")).get()).toEqual(stored);

    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [item(["Science Fiction"])] }]);
    const corrections = await correctionCount();
    expect(await sync()).toMatchObject({ updated: 1 });
    expect((await bookAnswer("li_g")).genres).toEqual(["Science Fiction"]);
    // Correction rows record the ten metadata fields and the narrator, as before.
    expect(await correctionCount()).toBe(corrections);
  });
});
