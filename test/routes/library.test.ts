import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { books, metadataCorrections } from "../../src/db/schema";
import { Audiobookshelf } from "../../src/integrations/audiobookshelf";
import { librarySyncTask, MAX_SYNC_ITEMS, syncLibrary } from "../../src/services/library-sync";
import { errorShape, withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, absItemExpanded, fakeAbs } from "../integrations/fake-abs";
import { captureLogs, fakeUpstream, json } from "../integrations/fake-upstream";

const db = primaryDatabase(env);
const abs = withEnv({ ABS_URL, ABS_TOKEN });

async function sync(api = abs) {
  const res = await api("/api/library/sync", { method: "POST", auth: true });
  return { status: res.status, body: await res.json<any>() };
}

const byAbsId = (absId: string) => db.select().from(books).where(eq(books.absId, absId)).get();
const correctionCount = async () => (await db.select({ n: sql<number>`count(*)` }).from(metadataCorrections).get())!.n;

// One database per test file: start each test from a catalogue without ABS books, so archiving
// (every ABS book the listing lacks) sees only this test's books.
beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

describe("POST /api/library/sync", () => {
  it("answers 503 naming the bindings to set when Audiobookshelf is not configured", async () => {
    const { status, body } = await sync(withEnv({ ABS_URL: "", ABS_TOKEN: "" }));
    expect(status).toBe(503);
    expect(body).toMatchObject(errorShape(503, "service_unavailable"));
    expect(body.detail).toContain("set ABS_URL and ABS_TOKEN");
  });

  // 1,204 books written: give a loaded machine time (this is not a speed check; bench/ measures).
  it("pages through every item of every book library, and skips podcast libraries", { timeout: 60_000 }, async () => {
    const many = Array.from({ length: 1_203 }, (_, i) => absItem(`li_${i}`));
    const fake = fakeAbs([
      { id: "lib_books", items: many },
      { id: "lib_more", items: [absItem("li_other")] },
      { id: "lib_pod", mediaType: "podcast", items: [{ id: "pod_1", mediaType: "podcast", media: { metadata: { title: "A show" } } }] },
    ]);
    const { status, body } = await sync();
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ created: 1_204, updated: 0, unchanged: 0, archived: 0, total: 1_204, libraries: 2, pages: 4 });
    expect(body.data.duration_ms).toEqual(expect.any(Number));
    const pages = fake.calls
      .filter((call) => call.url.pathname === "/api/libraries/lib_books/items")
      .map((call) => call.url.searchParams.get("page"));
    expect(pages).toEqual(["0", "1", "2"]);
    expect(fake.calls.some((call) => call.url.pathname.includes("lib_pod"))).toBe(false);
    const active = await db.select({ n: sql<number>`count(*)` }).from(books).where(eq(books.status, "active")).get();
    expect(active!.n).toBe(1_204);
  });

  it("maps two authors, narrators, two series, identifiers, year, description and duration (the long form)", async () => {
    fakeAbs([
      {
        id: "lib_books",
        items: [
          absItemExpanded(
            "li_omens",
            {
              title: "Good Omens",
              authors: [
                { id: "a1", name: "Terry Pratchett" },
                { id: "a2", name: "Neil Gaiman" },
              ],
              narrators: ["Martin Jarvis", "Stephen Fry"],
              series: [
                { id: "s1", name: "Discworld Extras", sequence: "2.5" },
                { id: "s2", name: "Gaiman Standalones", sequence: "1" },
              ],
              publishedYear: "1990",
              publisher: "Gollancz",
              description: "The world ends on a Saturday.",
              isbn: "9780060853983",
              asin: "B0009JKV9W",
            },
            45_930.4,
          ),
        ],
      },
    ]);
    expect((await sync()).body.data).toMatchObject({ created: 1 });
    expect(await byAbsId("li_omens")).toMatchObject({
      title: "Good Omens",
      author: "Terry Pratchett, Neil Gaiman",
      narrator: "Martin Jarvis, Stephen Fry",
      series: "Discworld Extras",
      seriesNumber: "2.5",
      isbn: "9780060853983",
      asin: "B0009JKV9W",
      publisher: "Gollancz",
      publishedYear: 1990,
      durationMinutes: 766,
      description: "The world ends on a Saturday.",
      importSource: "audiobookshelf",
      metadataCompletenessPercent: 100,
      status: "active",
    });
  });

  it("keeps a published year from 1000 to 3000, and no year outside them", async () => {
    const years = { li_y999: "999", li_y1000: "1000", li_y3000: "3000", li_y3001: "3001" };
    fakeAbs([
      { id: "lib_books", items: Object.entries(years).map(([id, publishedYear]) => absItemExpanded(id, { title: id, publishedYear })) },
    ]);
    expect((await sync()).body.data).toMatchObject({ created: 4 });
    const kept = await Promise.all(Object.keys(years).map(async (id) => (await byAbsId(id))?.publishedYear));
    expect(kept).toEqual([null, 1000, 3000, null]);
  });

  it("writes nothing on a second sync when nothing changed, and records changed fields when something did", async () => {
    const items = [absItem("li_a", { title: "Alpha" }), absItem("li_b", { title: "Beta", isbn: "9780000000002" })];
    fakeAbs([{ id: "lib_books", items }]);
    expect((await sync()).body.data).toMatchObject({ created: 2, unchanged: 0 });
    const before = await byAbsId("li_b");
    const corrections = await correctionCount();

    const second = await sync();
    expect(second.body.data).toMatchObject({ created: 0, updated: 0, unchanged: 2, archived: 0, total: 2 });
    expect(await byAbsId("li_b")).toEqual(before);
    expect(await correctionCount()).toBe(corrections);

    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [items[0], absItem("li_b", { title: "Beta", isbn: "9780000000002", publisher: "Orbit" })] }]);
    expect((await sync()).body.data).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(await byAbsId("li_b")).toMatchObject({ publisher: "Orbit" });
    const rows = await db.select().from(metadataCorrections).where(eq(metadataCorrections.bookId, before!.id));
    expect(rows).toEqual([
      expect.objectContaining({ fieldName: "publisher", oldValue: "Tor", newValue: "Orbit", reason: "Audiobookshelf sync" }),
    ]);
  });

  it("keeps a field filled elsewhere when ABS has no value for it", async () => {
    fakeAbs([{ id: "lib_books", items: [absItem("li_keep", { isbn: null })] }]);
    await sync();
    await db.update(books).set({ isbn: "9781111111111" }).where(eq(books.absId, "li_keep"));
    expect((await sync()).body.data).toMatchObject({ unchanged: 1 });
    expect((await byAbsId("li_keep"))!.isbn).toBe("9781111111111");
  });

  it("archives a book removed upstream and recomputes its series completion", async () => {
    const series = await abs("/api/series", { method: "POST", auth: true, json: { name: "The Saga", total_books_in_series: 2 } });
    const seriesId = (await series.json<any>()).data.series_id;
    const items = [absItem("li_1", { seriesName: "The Saga #1" }), absItem("li_2", { seriesName: "The Saga #2" })];
    fakeAbs([{ id: "lib_books", items }]);
    await sync();
    const completion = async () => (await (await abs(`/api/series/${seriesId}/completion`, { auth: true })).json<any>()).data;
    expect(await completion()).toMatchObject({ books_owned: 2, completion_status: "complete" });

    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [items[0]] }]);
    expect((await sync()).body.data).toMatchObject({ archived: 1, unchanged: 1, total: 1 });
    expect((await byAbsId("li_2"))!.status).toBe("archived");
    expect(await completion()).toMatchObject({ books_owned: 1, books_missing: 1, completion_status: "partial" });
  });

  it("archives nothing when ABS lists no book at all", async () => {
    fakeAbs([{ id: "lib_books", items: [absItem("li_x")] }]);
    await sync();
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [] }]);
    const { body } = await sync();
    expect(body.data).toMatchObject({ archived: 0, total: 0, archive_skipped: expect.stringContaining("kept") });
    expect((await byAbsId("li_x"))!.status).toBe("active");
  });

  it("keeps the catalogue consistent when ABS fails mid-sync: the pages written stay, nothing is archived", {
    timeout: 60_000,
  }, async () => {
    const items = Array.from({ length: 700 }, (_, i) => absItem(`li_mid_${i}`));
    fakeAbs([{ id: "lib_books", items: items.slice(0, 10) }]);
    await sync();
    vi.restoreAllMocks();
    // li_mid_0..9 are on page 0 again; page 1 never arrives.
    const fake = fakeAbs([{ id: "lib_books", items: [absItem("li_new"), ...items.slice(10)] }], {
      page: (_, page) => (page === 1 ? new Response("<html>502 Bad Gateway</html>", { status: 502 }) : undefined),
    });
    const { status, body } = await sync();
    expect(status).toBe(502);
    expect(body).toMatchObject(errorShape(502, "audiobookshelf_error"));
    expect(body.detail).toBe("Audiobookshelf answered 502 to GET /api/libraries/lib_books/items");
    expect(fake.calls.filter((call) => call.url.searchParams.get("page") === "1")).toHaveLength(3);
    // Page 0 (500 items, li_new among them) was written as one batch; li_mid_0..9 are not on it
    // and were not archived, since the listing never completed.
    expect(await byAbsId("li_new")).toMatchObject({ status: "active" });
    expect((await byAbsId("li_mid_0"))!.status).toBe("active");
    const stored = await db.select({ n: sql<number>`count(*)` }).from(books).get();
    expect(stored!.n).toBe(10 + 500);
  });

  it("is recorded as a manual LIBRARY_SYNC run by its caller, shown as the task's last run; a failed sync too", async () => {
    const lastRun = async () => {
      const res = await abs("/api/scheduler/tasks", { auth: true });
      const tasks = (await res.json<any>()).data.tasks;
      return tasks.find((task: { task_name: string }) => task.task_name === "LIBRARY_SYNC").last_run;
    };
    fakeAbs([{ id: "lib_books", items: [absItem("li_rec")] }]);
    expect((await sync()).status).toBe(200);
    expect(await lastRun()).toMatchObject({
      status: "completed",
      items_processed: 1,
      task_metadata: { trigger: "manual", triggered_by: "operator", created: 1, total: 1 },
    });
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [] }], { page: () => new Response("down", { status: 500 }) });
    expect((await sync()).status).toBe(502);
    expect(await lastRun()).toMatchObject({
      status: "failed",
      error_message: expect.stringContaining("Audiobookshelf answered 500"),
      task_metadata: { trigger: "manual", triggered_by: "operator" },
    });
  });

  it("answers 502 for HTML or a wrong shape, writing nothing", async () => {
    fakeAbs([{ id: "lib_books", items: [] }], {
      page: () => new Response("<!doctype html><title>Login</title>", { headers: { "Content-Type": "text/html" } }),
    });
    const html = await sync();
    expect(html.status).toBe(502);
    expect(html.body.detail).toBe("Audiobookshelf answered GET /api/libraries/lib_books/items with something that is not JSON");
    vi.restoreAllMocks();
    fakeAbs([{ id: "lib_books", items: [] }], { page: () => json({ items: [absItem("li_shape")], count: 1 }) });
    const shape = await sync();
    expect(shape.status).toBe(502);
    expect(shape.body).toMatchObject({ error: "audiobookshelf_error", detail: expect.stringContaining("unexpected shape") });
    expect(await byAbsId("li_shape")).toBeUndefined();
  });

  it("never echoes the ABS key, in the answer or the logs, even from an upstream that repeats it", async () => {
    const logs = captureLogs();
    fakeAbs([{ id: "lib_books", items: [] }], {
      page: () => new Response(`invalid token ${ABS_TOKEN}`, { status: 500, headers: { "X-Debug": ABS_TOKEN } }),
    });
    const res = await abs("/api/library/sync", { method: "POST", auth: true });
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(text).not.toContain(ABS_TOKEN);
    expect(logs.join("\n")).not.toContain(ABS_TOKEN);
    expect(logs.length).toBeGreaterThan(0);
  });

  it("goes through a Workers VPC binding (ABS_VPC) when one is bound, not the internet", async () => {
    const global = fakeAbs([{ id: "lib_books", items: [] }]);
    const seen: string[] = [];
    const vpc = {
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        seen.push(new URL(request.url).pathname);
        if (request.headers.get("Authorization") !== `Bearer ${ABS_TOKEN}`) return new Response("", { status: 401 });
        return new URL(request.url).pathname === "/api/libraries"
          ? json({ libraries: [{ id: "lib_vpc", name: "Books", mediaType: "book" }] })
          : json({ results: [absItem("li_vpc")], total: 1, limit: 500, page: 0 });
      },
    };
    const { status, body } = await sync(withEnv({ ABS_URL: "http://192.168.1.10:13378", ABS_TOKEN, ...({ ABS_VPC: vpc } as object) }));
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ created: 1, total: 1 });
    expect(seen).toEqual(["/api/libraries", "/api/libraries/lib_vpc/items"]);
    expect(global.calls).toHaveLength(0);
  });

  it("runs as the LIBRARY_SYNC task: its counts as the outcome, and 503 when ABS is not configured", async () => {
    fakeAbs([{ id: "lib_books", items: [absItem("li_task1"), absItem("li_task2")] }]);
    const outcome = await librarySyncTask(db, parseConfig({ ENVIRONMENT: "development", ABS_URL, ABS_TOKEN }));
    expect(outcome).toMatchObject({ processed: 2, succeeded: 2, failed: 0, metadata: { created: 2, total: 2 } });
    await expect(librarySyncTask(db, parseConfig({ ENVIRONMENT: "development" }))).rejects.toMatchObject({ code: "service_unavailable" });
  });

  it("answers 502 when ABS refuses the key", async () => {
    fakeAbs([{ id: "lib_books", items: [] }]);
    const { status, body } = await sync(withEnv({ ABS_URL, ABS_TOKEN: "wrong-key" }));
    expect(status).toBe(502);
    expect(body.detail).toBe("Audiobookshelf answered 401 to GET /api/libraries: check its credentials");
  });
});

describe("POST /api/library/sync: a hostile Audiobookshelf (issue 23)", () => {
  /** ABS answering every page with `page(n)`; more than `cap` item pages answer 500, so a walk that does not stop fails. */
  function hostileAbs(page: (n: number) => unknown, cap = 250) {
    let pages = 0;
    const fake = fakeUpstream((_, url) => {
      if (url.pathname === "/api/libraries") return json({ libraries: [{ id: "lib_books", name: "Books", mediaType: "book" }] });
      if (++pages > cap) return new Response("too many pages", { status: 500 });
      return json(page(Number(url.searchParams.get("page"))));
    });
    return { fake, pages: () => pages };
  }

  it("uses its own page size: total 1e9 with limit 1 ends after its one short page", async () => {
    const abs500 = hostileAbs((n) => ({ results: [absItem(`li_tiny_${n}`)], total: 1e9, limit: 1, page: n }), 50);
    const { status, body } = await sync();
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data).toMatchObject({ created: 1, total: 1, pages: 1 });
    expect(abs500.pages()).toBe(1);
  });

  it("stops after 100,000 listed items and archives nothing", { timeout: 60_000 }, async () => {
    const [kept] = await db.insert(books).values({ title: "Kept", absId: "li_not_listed" }).returning();
    const items = Array.from({ length: 500 }, (_, i) => absItem(`li_loop_${i}`));
    const abs = hostileAbs((n) => ({ results: items, total: 1e9, limit: 500, page: n }));
    const { status, body } = await sync();
    expect(status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(abs.pages()).toBe(MAX_SYNC_ITEMS / 500);
    expect(body.data).toMatchObject({ created: 500, archived: 0, pages: MAX_SYNC_ITEMS / 500 });
    expect(body.data.archive_skipped).toContain("more than 100000 items");
    expect((await byAbsId("li_not_listed"))!.status).toBe(kept!.status);
  });

  it("reads no page after its time budget (the time given as a clock), and archives nothing", async () => {
    hostileAbs((n) => ({ results: Array.from({ length: 500 }, (_, i) => absItem(`li_slow_${i}`)), total: 1e9, limit: 500, page: n }));
    let now = 0;
    const clock = () => (now += 2 * 60_000);
    const config = parseConfig({ ENVIRONMENT: "development", ABS_URL, ABS_TOKEN });
    const client = new Audiobookshelf({ url: ABS_URL, token: ABS_TOKEN, libraryId: undefined }, config.upstream);
    const result = await syncLibrary(db, client, "test", { clock });
    expect(result).toMatchObject({ pages: 2, archived: 0 });
    expect(result.archive_skipped).toContain("more than 5 minutes");
  });

  it("stores no id past its bound and no control character; clips every text to its field", async () => {
    const huge = "x".repeat(200_000);
    hostileAbs(() => ({
      results: [
        absItem(`li_${huge}`),
        absItem("li_nul\u0000"),
        absItemExpanded("li_dirty", {
          title: `Dune\u0000\u001b[31m ${"T".repeat(1_000)}`,
          authors: [{ name: "Frank\u0007 Herbert" }],
          description: `Line one\nLine two\u0000\u001b`,
          genres: Array.from({ length: 1_000 }, (_, i) => `Genre\u0000 ${i}`),
          publisher: huge,
        }),
      ],
      total: 3,
      limit: 500,
      page: 0,
    }));
    const { status, body } = await sync();
    expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
    expect(body.data).toMatchObject({ created: 1, total: 1, malformed: 2 });
    const book = (await byAbsId("li_dirty"))!;
    expect(book.title).toHaveLength(500);
    expect(book.title.startsWith("Dune[31m TTT")).toBe(true);
    expect(book.author).toBe("Frank Herbert");
    expect(book.description).toBe("Line one\nLine two");
    expect(book.publisher).toHaveLength(500);
    expect(JSON.stringify(await db.select().from(books))).not.toMatch(/\\u00(0[0-8bcef]|1[0-9a-f])/);
    expect((await db.select({ n: sql<number>`max(length(abs_id))` }).from(books).get())!.n).toBeLessThanOrEqual(100);
  });
});
