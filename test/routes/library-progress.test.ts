import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, metadataCorrections } from "../../src/db/schema";
import { errorShape, withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";

// POST /api/library/sync with Accept: application/x-ndjson: the sync followed from a terminal
// (`curl -N`), one line after each page, then the answer the route gives without it.
const db = primaryDatabase(env);
const abs = withEnv({ ABS_URL, ABS_TOKEN });

async function followSync() {
  const res = await abs("/api/library/sync", { method: "POST", auth: true, headers: { Accept: "application/x-ndjson" } });
  const lines = (await res.text())
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { res, lines, last: lines.at(-1), progress: lines.slice(0, -1).map((line) => line.progress) };
}

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

describe("POST /api/library/sync, followed (Accept: application/x-ndjson)", () => {
  it("says how far it is after each page of each library, then answers what the sync did", { timeout: 60_000 }, async () => {
    fakeAbs([
      { id: "lib_books", items: Array.from({ length: 1_001 }, (_, i) => absItem(`li_p_${i}`)) },
      { id: "lib_more", items: [absItem("li_p_other")] },
    ]);
    const { res, progress, last } = await followSync();
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/x-ndjson; charset=utf-8");
    expect(progress).toEqual([
      { library: "lib_books", page: 1, pages: 3, books: 500, created: 500, updated: 0, unchanged: 0 },
      { library: "lib_books", page: 2, pages: 3, books: 1_000, created: 1_000, updated: 0, unchanged: 0 },
      { library: "lib_books", page: 3, pages: 3, books: 1_001, created: 1_001, updated: 0, unchanged: 0 },
      { library: "lib_more", page: 1, pages: 1, books: 1_002, created: 1_002, updated: 0, unchanged: 0 },
    ]);
    expect(last).toMatchObject({ success: true, error: null, data: { created: 1_002, total: 1_002, libraries: 2, pages: 4 } });
    const stored = await db.select({ n: sql<number>`count(*)` }).from(books).get();
    expect(stored!.n).toBe(1_002);
  });

  it("ends with the standard error body when Audiobookshelf fails half way; the pages said written are there", async () => {
    fakeAbs([{ id: "lib_books", items: Array.from({ length: 600 }, (_, i) => absItem(`li_f_${i}`)) }], {
      page: (_, page) => (page === 1 ? new Response("<html>502 Bad Gateway</html>", { status: 502 }) : undefined),
    });
    const { res, progress, last } = await followSync();
    expect(res.status).toBe(200);
    expect(progress).toEqual([{ library: "lib_books", page: 1, pages: 2, books: 500, created: 500, updated: 0, unchanged: 0 }]);
    expect(last).toMatchObject(errorShape(502, "audiobookshelf_error"));
    expect(last.detail).toBe("Audiobookshelf answered 502 to GET /api/libraries/lib_books/items");
    const stored = await db.select({ n: sql<number>`count(*)` }).from(books).get();
    expect(stored!.n).toBe(500);
  });

  it("answers a refusal before any work as usual: 503 in the error shape when Audiobookshelf is not configured", async () => {
    const res = await withEnv({ ABS_URL: "", ABS_TOKEN: "" })("/api/library/sync", {
      method: "POST",
      auth: true,
      headers: { Accept: "application/x-ndjson" },
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject(errorShape(503, "service_unavailable"));
  });
});
