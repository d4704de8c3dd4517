import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../../src/db/client";
import { books, downloads, missingBooks } from "../../../src/db/schema";
import { createGapDownloads } from "../../../src/services/downloads";
import { unique } from "../../fixtures";

const db = primaryDatabase(env);
const magnet = () => `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "").padEnd(40, "0")}&dn=x`;

async function gaps(n: number) {
  return db
    .insert(missingBooks)
    .values(Array.from({ length: n }, () => ({ title: unique("Gap"), reasonMissing: "series_gap" as const })))
    .returning();
}

describe("createGapDownloads (src/services/downloads/create-many.ts)", () => {
  it("queues one download per gap in the order given, and moves each gap to queued", async () => {
    const rows = await gaps(3);
    const links = rows.map(() => magnet());
    const answers = await createGapDownloads(
      db,
      rows.map((gap, i) => ({ title: gap.title, source: "Prowlarr", missing_book_id: gap.id, magnet_link: links[i] })),
      undefined,
    );
    const ids = answers.map((a) => ("download_id" in a ? a.download_id : null));
    const stored = await db
      .select()
      .from(downloads)
      .where(inArray(downloads.id, ids as number[]));
    expect(ids.map((id) => stored.find((d) => d.id === id)?.magnetLink)).toEqual(links);
    const after = await db
      .select()
      .from(missingBooks)
      .where(
        inArray(
          missingBooks.id,
          rows.map((g) => g.id),
        ),
      );
    expect(after.map((g) => [g.downloadStatus, g.downloadId])).toEqual(ids.map((id) => ["queued", id]));
  });

  it("refuses a gap filled or gone meanwhile with createDownload's 409, and queues the others", async () => {
    const [filled, gone, open] = await gaps(3);
    const [book] = await db
      .insert(books)
      .values({ title: unique("Filled") })
      .returning();
    await db.update(missingBooks).set({ bookId: book!.id }).where(eq(missingBooks.id, filled!.id));
    await db.delete(missingBooks).where(eq(missingBooks.id, gone!.id));
    const answers = await createGapDownloads(
      db,
      [filled!, gone!, open!].map((gap) => ({ title: gap.title, source: "Prowlarr", missing_book_id: gap.id, magnet_link: magnet() })),
      undefined,
    );
    expect(answers.map((a) => ("conflict" in a ? a.conflict.detail : "queued"))).toEqual([
      `Missing book ${filled!.id} is already in the library as book ${book!.id}`,
      `Missing book ${gone!.id} no longer exists`,
      "queued",
    ]);
    expect(
      await db
        .select()
        .from(downloads)
        .where(inArray(downloads.missingBookId, [filled!.id, gone!.id])),
    ).toEqual([]);
  });

  it("refuses a link that is not a magnet or on Prowlarr's origin before writing anything (422)", async () => {
    const [gap] = await gaps(1);
    await expect(
      createGapDownloads(
        db,
        [{ title: "x", source: "Prowlarr", missing_book_id: gap!.id, torrent_url: "http://169.254.169.254/" }],
        undefined,
      ),
    ).rejects.toMatchObject({ status: 422 });
    expect(await db.select().from(downloads).where(eq(downloads.missingBookId, gap!.id))).toEqual([]);
  });
});
