import { env } from "cloudflare:workers";
import { and, desc, eq, inArray, ne } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, downloads, missingBooks, series, tasks } from "../../src/db/schema";
import { qbittorrent } from "../../src/integrations/qbittorrent";
import { send } from "../../src/services/queue";
import { unique } from "../fixtures";
import { errorShape, withEnv } from "../helpers";
import { fakeMamProwlarr, PROWLARR, prowlarrRelease } from "../integrations/fake-prowlarr";
import { configWith, fakeQbittorrent, qbKey } from "../integrations/fake-qbittorrent";
import { captureLogs, fakeUpstream, json } from "../integrations/fake-upstream";

const db = primaryDatabase(env);
const withProwlarr = withEnv(PROWLARR);
const post = async (path: string, body?: unknown) => {
  const res = await withProwlarr(path, { method: "POST", auth: true, ...(body !== undefined ? { json: body } : {}) });
  return { status: res.status, body: (await res.json()) as any };
};

/** A series of 3 with books 1 and 3 in the library: gap #2 after analysis. */
async function seriesWithGap() {
  const name = unique("Expanse");
  const author = "James S. A. Corey";
  await db.insert(series).values({ name, author, totalBooksInSeries: 3 });
  await db.insert(books).values([
    { title: unique("Leviathan Wakes"), series: name, seriesNumber: "1", author },
    { title: unique("Abaddon's Gate"), series: name, seriesNumber: "3", author },
  ]);
  return { name, author };
}

/** Prowlarr answering each search by the series named in the query. */
function prowlarrWith(releasesFor: (query: string) => unknown[]) {
  return fakeUpstream((_, url) =>
    url.pathname === "/api/v1/search" ? json(releasesFor(url.searchParams.get("query") ?? "")) : new Response("Not Found", { status: 404 }),
  );
}

beforeEach(async () => {
  // Acquisition looks at every open gap: each test starts with none but its own (and analysis
  // does not bring back the earlier tests' series).
  await db.delete(missingBooks);
  await db.update(series).set({ totalBooksInSeries: null });
  // A series with no known total still has its internal gaps: the earlier tests' books go too.
  await db.delete(books);
});
afterEach(() => vi.restoreAllMocks());

describe("POST /api/gaps/acquire", () => {
  it("dry_run ranks every release of every open gap, says why, and queues nothing", async () => {
    const { name } = await seriesWithGap();
    await post("/api/gaps/analyze");
    const fake = prowlarrWith((query) =>
      query.startsWith(name)
        ? [
            prowlarrRelease(`${name}, Book 2 - Caliban's War by James S. A. Corey [ENG / M4B]`, { seeders: 5 }),
            prowlarrRelease(`${name}, Book 2 by James S. A. Corey [ENG / MP3]`, { seeders: 3, indexerFlags: ["freeleech"] }),
            prowlarrRelease(`${name} Books 1-3 by James S. A. Corey`),
            prowlarrRelease(`${name}, Book 4 by James S. A. Corey`),
          ]
        : [],
    );
    const { status, body } = await post("/api/gaps/acquire", { dry_run: true });
    expect(status, JSON.stringify(body)).toBe(200);
    const result = body.data;
    expect(fake.calls[0]!.url.searchParams.get("query")).toBe(`${name} Corey`);
    expect(result).toMatchObject({ dry_run: true, searched: 1, skipped: [] });
    expect(result.queued).toEqual([
      {
        missing_book_id: expect.any(Number),
        wanted: `${name} #2`,
        download_id: null,
        release: expect.objectContaining({ title: `${name}, Book 2 by James S. A. Corey [ENG / MP3]`, freeleech: true }),
      },
    ]);
    expect(result.decisions[0].releases.map((d: { reason: string; rank: number | null }) => [d.reason, d.rank])).toEqual([
      ["series_position", 1],
      ["series_position", 2],
      ["omnibus_pack", null],
      ["other_position", null],
    ]);
    expect(await db.select().from(downloads).where(eq(downloads.missingBookId, result.queued[0].missing_book_id))).toEqual([]);
  });

  it("queues the best release linked to its gap, and queues nothing the second time", async () => {
    const { name } = await seriesWithGap();
    await post("/api/gaps/analyze");
    const best = prowlarrRelease(`${name} #02 by James S. A. Corey [ENG / M4B]`, { seeders: 30, infoHash: "AB".repeat(20) });
    const fake = prowlarrWith(() => [best, prowlarrRelease(`${name} #2 by James S. A. Corey`, { seeders: 2 })]);
    const first = (await post("/api/gaps/acquire", {})).body.data;
    expect(first).toMatchObject({
      dry_run: false,
      searched: 1,
      queued: [{ download_id: expect.any(Number), release: { guid: best.guid, match: "series_position" } }],
    });
    expect(first).not.toHaveProperty("decisions");
    const download = (await db.select().from(downloads).where(eq(downloads.id, first.queued[0].download_id)).get())!;
    expect(download).toMatchObject({
      status: "queued",
      // Prowlarr's link without its key (src/services/downloads/links.ts).
      torrentUrl: best.downloadUrl.replace(`apikey=${PROWLARR.PROWLARR_API_KEY}&`, ""),
      magnetLink: null,
      source: "Prowlarr: MyAnonamouse",
      missingBookId: first.queued[0].missing_book_id,
    });
    expect(JSON.parse(download.metadataJson!)).toMatchObject({ guid: best.guid, info_hash: "ab".repeat(20) });
    const gap = await db.select().from(missingBooks).where(eq(missingBooks.id, first.queued[0].missing_book_id)).get();
    expect(gap).toMatchObject({ downloadStatus: "queued", downloadId: download.id });

    const second = (await post("/api/gaps/acquire", {})).body.data;
    expect(second).toMatchObject({ searched: 0, queued: [], skipped: [{ missing_book_id: gap!.id, reason: "download_active" }] });
    expect(fake.calls).toHaveLength(1);
    // Each real acquisition is a manual ACQUIRE run with who asked, as the schedule shows it.
    const runs = await db.select().from(tasks).where(eq(tasks.taskName, "ACQUIRE")).orderBy(desc(tasks.id)).limit(2);
    expect(runs.map((run) => run.taskMetadata)).toEqual([
      expect.objectContaining({ trigger: "manual", triggered_by: "operator", searched: 0 }),
      expect.objectContaining({
        trigger: "manual",
        triggered_by: "operator",
        searched: 1,
        queued: [expect.objectContaining({ download_id: download.id })],
      }),
    ]);
  });

  it("queues a release once: a second gap choosing it, or one whose link is already queued, is skipped and leaves its place to the next gap", async () => {
    const author = "Ursula Writer";
    const [alpha, beta, gamma] = ["Alpha", "Beta", "Gamma"].map((t) => unique(t));
    const fake = fakeMamProwlarr([alpha, beta, gamma].map((title) => ({ title: title!, author })));
    const betaRelease = fake.releases[1]!;
    // Beta's release is already in the queue, sent by hand (stored without Prowlarr's key).
    const held = await post("/api/downloads", { title: betaRelease.title, source: "manual", torrent_url: betaRelease.downloadUrl });
    expect(held.status, JSON.stringify(held.body)).toBe(201);
    // In the run's order (series gaps by id): Alpha twice (the same query, the same release), Beta, Gamma.
    const gaps = await db
      .insert(missingBooks)
      .values([alpha, alpha, beta, gamma].map((title) => ({ title: title!, authorName: author, reasonMissing: "series_gap" as const })))
      .returning();
    const { status, body } = await post("/api/gaps/acquire", { max_downloads: 2 });
    expect(status, JSON.stringify(body)).toBe(200);
    const result = body.data;
    expect(result.searched).toBe(3);
    expect(result.queued.map((q: any) => q.missing_book_id)).toEqual([gaps[0]!.id, gaps[3]!.id]);
    const alphaDownload = result.queued[0].download_id;
    expect(result.skipped).toEqual([
      {
        missing_book_id: gaps[1]!.id,
        wanted: alpha,
        reason: "duplicate_release",
        detail: `This torrent URL is already queued as download ${alphaDownload} (status queued)`,
      },
      {
        missing_book_id: gaps[2]!.id,
        wanted: beta,
        reason: "duplicate_release",
        detail: `This torrent URL is already queued as download ${held.body.data.id} (status queued)`,
      },
    ]);
    const states = await db
      .select({ id: missingBooks.id, downloadStatus: missingBooks.downloadStatus, downloadId: missingBooks.downloadId })
      .from(missingBooks)
      .orderBy(missingBooks.id);
    expect(states).toEqual([
      { id: gaps[0]!.id, downloadStatus: "queued", downloadId: alphaDownload },
      { id: gaps[1]!.id, downloadStatus: "identified", downloadId: null },
      { id: gaps[2]!.id, downloadStatus: "identified", downloadId: null },
      { id: gaps[3]!.id, downloadStatus: "queued", downloadId: result.queued[1].download_id },
    ]);
    // One download of each release.
    const queued = await db
      .select()
      .from(downloads)
      .where(inArray(downloads.id, [alphaDownload, result.queued[1].download_id]));
    expect(queued.map((d) => d.title).sort()).toEqual([fake.releases[0]!.title, fake.releases[2]!.title]);
  });

  it("never queues a release that matches nothing wanted, and says why", async () => {
    const { name } = await seriesWithGap();
    await post("/api/gaps/analyze");
    prowlarrWith(() => [prowlarrRelease(`${name}, Book 2 by John Scalzi`), prowlarrRelease("Old Man's War by John Scalzi")]);
    const result = (await post("/api/gaps/acquire", {})).body.data;
    expect(result.queued).toEqual([]);
    expect(result.skipped).toEqual([
      {
        missing_book_id: expect.any(Number),
        wanted: `${name} #2`,
        reason: "no_matching_release",
        detail: expect.stringContaining("2 author_mismatch"),
      },
    ]);
  });

  it("skips a gap Prowlarr finds nothing for", async () => {
    await seriesWithGap();
    await post("/api/gaps/analyze");
    prowlarrWith(() => []);
    const result = (await post("/api/gaps/acquire", { max_downloads: 1 })).body.data;
    expect(result.skipped).toEqual([expect.objectContaining({ reason: "no_results" })]);
  });

  it("answers Prowlarr's 500 with 502 external_api_error and queues nothing", async () => {
    await seriesWithGap();
    await post("/api/gaps/analyze");
    fakeUpstream(() => new Response("boom", { status: 500 }));
    const before = (await db.select().from(downloads)).length;
    const { status, body } = await post("/api/gaps/acquire", {});
    expect(status).toBe(502);
    expect(body).toMatchObject(errorShape(502, "external_api_error"));
    expect((await db.select().from(downloads)).length).toBe(before);
  });

  it("answers 503 naming the bindings when Prowlarr is not configured, and 422 for bad limits", async () => {
    const res = await withEnv({})("/api/gaps/acquire", { method: "POST", auth: true, json: {} });
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body).toMatchObject(errorShape(503, "service_unavailable"));
    expect(body.detail).toContain("PROWLARR_URL");
    // At most 10 downloads (30 searches) a call (issue 23: 50 downloads and 150 searches was too much).
    for (const max_downloads of [0, 11, 50, 2.5])
      expect((await post("/api/gaps/acquire", { max_downloads })).status, `${max_downloads}`).toBe(422);
    expect((await post("/api/gaps/analyze-and-acquire?max_downloads=11")).status).toBe(422);
    expect((await post("/api/gaps/acquire", { nope: 1 })).status).toBe(422);
  });
});

describe("links from search results (README, Security notes)", () => {
  it("queues only a magnet or a link on Prowlarr's origin, reports the rest, and hands qBittorrent the key only when sending", async () => {
    const logs = captureLogs();
    const { name } = await seriesWithGap();
    await post("/api/gaps/analyze");
    const title = `${name}, Book 2 by James S. A. Corey [ENG / M4B]`;
    const hostile = [
      prowlarrRelease(title, { seeders: 100, downloadUrl: "http://169.254.169.254/latest/meta-data/" }),
      prowlarrRelease(title, { seeders: 90, downloadUrl: null, magnetUrl: "file:///etc/passwd" }),
      prowlarrRelease(title, { seeders: 80, downloadUrl: "http://127.0.0.1:8080/api/v2/app/shutdown" }),
      prowlarrRelease(title, { seeders: 70, downloadUrl: "data:application/x-bittorrent;base64,ZA==", magnetUrl: "javascript:alert(1)" }),
    ];
    const good = prowlarrRelease(title, { seeders: 5 });
    prowlarrWith(() => [...hostile, good]);
    const { status, body } = await post("/api/gaps/acquire", {});
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data.queued).toEqual([expect.objectContaining({ release: expect.objectContaining({ guid: good.guid }) })]);
    expect(body.data.refused_links.map((r: { guid: string }) => r.guid)).toEqual(hostile.map((r) => r.guid));
    expect(body.data.refused_links[0].reason).toContain("outside Prowlarr's origin");
    const download = (await db.select().from(downloads).where(eq(downloads.id, body.data.queued[0].download_id)).get())!;
    expect(download.torrentUrl).not.toContain(PROWLARR.PROWLARR_API_KEY);
    vi.restoreAllMocks();

    // QUEUE: qBittorrent gets Prowlarr's link with the key put back, and nothing else.
    await db
      .update(downloads)
      .set({ status: "abandoned" })
      .where(and(inArray(downloads.status, ["queued", "downloading"]), ne(downloads.id, download.id)));
    const qb = fakeQbittorrent({ style: "5.2" });
    const config = configWith({ ...qbKey, ...PROWLARR });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.sent.map((s) => s.download_id)).toEqual([download.id]);
    const adds = qb.calls.filter((c) => c.url.pathname === "/api/v2/torrents/add");
    expect(adds).toHaveLength(1);
    expect(new URLSearchParams(adds[0]!.body).get("urls")).toBe(good.downloadUrl);
    expect(logs.join("\n")).not.toContain(PROWLARR.PROWLARR_API_KEY);
  });
});

describe("POST /api/gaps/analyze-and-acquire", () => {
  it("finds the gaps, then acquires with the query's max_downloads", async () => {
    const { name } = await seriesWithGap();
    prowlarrWith(() => [prowlarrRelease(`${name}, Book 2 by James S. A. Corey [ENG / M4B]`)]);
    const { status, body } = await post("/api/gaps/analyze-and-acquire?max_downloads=1");
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.data.analysis).toMatchObject({ gaps_found: expect.any(Number) });
    expect(body.data.acquisition).toMatchObject({ max_downloads: 1, queued: [{ wanted: `${name} #2`, download_id: expect.any(Number) }] });
  });
});
