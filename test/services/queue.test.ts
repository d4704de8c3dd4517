import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { downloads, missingBooks, type NewDownload, tasks } from "../../src/db/schema";
import { forgetSessions, qbittorrent } from "../../src/integrations/qbittorrent";
import { runTask } from "../../src/scheduler/runs";
import { TASKS } from "../../src/scheduler/tasks";
import { QB_STATES } from "../../src/services/qbittorrent-states";
import { poll, runQueue, send } from "../../src/services/queue";
import { PROWLARR } from "../integrations/fake-prowlarr";
import { configWith, fakeQbittorrent, hashOfUrl, qbKey, qbLogin } from "../integrations/fake-qbittorrent";
import { ISO } from "../library";

const db = primaryDatabase(env);
const MINUTE = 60_000;

/** A fresh info hash. */
const hash = () => Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => b.toString(16).padStart(2, "0")).join("");
const magnetOf = (h: string) => `magnet:?xt=urn:btih:${h}&dn=Book`;

async function insertDownload(fields: Partial<NewDownload> = {}) {
  const h = hash();
  const [row] = await db
    .insert(downloads)
    .values({ title: `Book ${h.slice(0, 6)}`, source: "Prowlarr: MyAnonamouse", magnetLink: magnetOf(h), ...fields })
    .returning();
  return row!;
}

const reload = async (id: number) => (await db.select().from(downloads).where(eq(downloads.id, id)).get())!;

// The queue is global: every test starts with no download in flight.
beforeEach(async () => {
  forgetSessions();
  await db
    .update(downloads)
    .set({ status: "abandoned" })
    .where(inArray(downloads.status, ["queued", "downloading"]));
});
afterEach(() => vi.restoreAllMocks());

/** What the QUEUE task must do with a download whose torrent is in each state (src/services/qbittorrent-states.ts). */
const EXPECTED: Record<string, "completed" | "failed" | "stalled" | "active"> = {
  uploading: "completed",
  stalledUP: "completed",
  queuedUP: "completed",
  forcedUP: "completed",
  checkingUP: "completed",
  pausedUP: "completed",
  stoppedUP: "completed",
  error: "failed",
  missingFiles: "failed",
  stalledDL: "stalled",
  allocating: "active",
  downloading: "active",
  metaDL: "active",
  forcedMetaDL: "active",
  pausedDL: "active",
  stoppedDL: "active",
  queuedDL: "active",
  checkingDL: "active",
  forcedDL: "active",
  checkingResumeData: "active",
  moving: "active",
  unknown: "active",
};

describe("QUEUE: polling", () => {
  it("covers every qBittorrent state", () => {
    expect([...QB_STATES].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))("maps %s to %s", async (state, verdict) => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const h = hash();
    const row = await insertDownload({
      status: "downloading",
      qbittorrentHash: h,
      qbittorrentStatus: "downloading",
      lastAttempt: new Date().toISOString(),
    });
    fake.torrents.set(h, {
      hash: h,
      name: "Book",
      state,
      progress: verdict === "completed" ? 1 : 0.4,
      tags: "mamcrawler",
      category: "audiobooks",
    });
    const report = await poll(db, qbittorrent(config), config, new Date());
    const after = await reload(row.id);
    expect(after.qbittorrentStatus).toBe(state);
    if (verdict === "completed") {
      expect(after).toMatchObject({ status: "completed", progress: 1, dateCompleted: ISO });
      expect(report.completed).toEqual([row.id]);
    } else if (verdict === "failed") {
      expect(after).toMatchObject({ status: "queued", retryCount: 1, nextRetry: ISO, absImportError: `qBittorrent reports ${state}` });
      expect(Date.parse(after.nextRetry!)).toBeGreaterThan(Date.now());
    } else {
      // stalledDL just began: not yet timed out.
      expect(after).toMatchObject({ status: "downloading", progress: 0.4, qbittorrentStatusSince: ISO });
    }
    expect(report.state_counts).toEqual({ [state]: 1 });
  });

  it("keeps a download in a state this code does not know (a newer qBittorrent) in flight, not failed", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const h = hash();
    const row = await insertDownload({
      status: "downloading",
      qbittorrentHash: h,
      qbittorrentStatus: "downloading",
      lastAttempt: new Date().toISOString(),
    });
    fake.torrents.set(h, { hash: h, name: "Book", state: "seedingRemotely", progress: 0.4, tags: "mamcrawler", category: "audiobooks" });
    await poll(db, qbittorrent(config), config, new Date());
    expect(await reload(row.id)).toMatchObject({ status: "downloading", retryCount: 0, qbittorrentStatus: "seedingRemotely" });
  });

  it("fails a download stalled for longer than QB_STALL_MINUTES, and not one stalled for less", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith({ ...qbKey, QB_STALL_MINUTES: "30" });
    const [long, short] = [hash(), hash()];
    const since = (minutes: number) => new Date(Date.now() - minutes * MINUTE).toISOString();
    const stalledLong = await insertDownload({
      status: "downloading",
      qbittorrentHash: long,
      qbittorrentStatus: "stalledDL",
      qbittorrentStatusSince: since(31),
    });
    const stalledShort = await insertDownload({
      status: "downloading",
      qbittorrentHash: short,
      qbittorrentStatus: "stalledDL",
      qbittorrentStatusSince: since(29),
    });
    for (const h of [long, short]) fake.torrents.set(h, { hash: h, name: "x", state: "stalledDL", progress: 0.1, tags: "", category: "" });
    await poll(db, qbittorrent(config), config, new Date());
    expect(await reload(stalledLong.id)).toMatchObject({
      status: "queued",
      retryCount: 1,
      absImportError: "stalled for more than 30 minutes",
    });
    expect(await reload(stalledShort.id)).toMatchObject({
      status: "downloading",
      qbittorrentStatusSince: stalledShort.qbittorrentStatusSince,
    });
  });

  it("fails a download whose hash qBittorrent no longer knows, and abandons it at max_retries", async () => {
    fakeQbittorrent({ style: "4.x" });
    const config = configWith(qbLogin);
    const gone = await insertDownload({ status: "downloading", qbittorrentHash: hash(), retryCount: 2 });
    const [gap] = await db
      .insert(missingBooks)
      .values({ title: "Gap", reasonMissing: "series_gap", downloadId: gone.id, downloadStatus: "downloading" })
      .returning();
    await db.update(downloads).set({ missingBookId: gap!.id }).where(eq(downloads.id, gone.id));
    await poll(db, qbittorrent(config), config, new Date());
    expect(await reload(gone.id)).toMatchObject({
      status: "abandoned",
      retryCount: 3,
      nextRetry: null,
      absImportError: "Max retries exceeded: qBittorrent no longer knows this torrent",
    });
    expect((await db.select().from(missingBooks).where(eq(missingBooks.id, gap!.id)).get())?.downloadStatus).toBe("failed");
  });
});

describe("QUEUE: sending", () => {
  it("sends the oldest due downloads while fewer than QB_MAX_ACTIVE are downloading", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const config = configWith({ ...qbLogin, QB_MAX_ACTIVE: "3" });
    await insertDownload({ status: "downloading", qbittorrentHash: "a".repeat(40) });
    fake.torrents.set("a".repeat(40), { hash: "a".repeat(40), name: "x", state: "downloading", progress: 0.5, tags: "", category: "" });
    const t = (minutes: number) => new Date(Date.now() - minutes * MINUTE).toISOString();
    const oldest = await insertDownload({ dateQueued: t(50) });
    const older = await insertDownload({ dateQueued: t(40) });
    const notDue = await insertDownload({ dateQueued: t(60), nextRetry: new Date(Date.now() + 60 * MINUTE).toISOString() });
    const newest = await insertDownload({ dateQueued: t(10) });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.slots).toBe(2);
    expect(report.sent.map((s) => s.download_id)).toEqual([oldest.id, older.id]);
    for (const id of [oldest.id, older.id]) {
      const row = await reload(id);
      expect(row).toMatchObject({
        status: "downloading",
        qbittorrentHash: expect.stringMatching(/^[0-9a-f]{40}$/),
        qbittorrentStatus: "sent",
        progress: 0,
      });
      expect(fake.torrents.get(row.qbittorrentHash!)).toMatchObject({ category: "audiobooks", tags: `mamcrawler,mamcrawler-${id}` });
    }
    expect(await reload(notDue.id)).toMatchObject({ status: "queued", qbittorrentStatus: null });
    expect(await reload(newest.id)).toMatchObject({ status: "queued", qbittorrentStatus: null });
  });

  it("does not add a torrent qBittorrent already has: it records it as downloading", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const h = hash();
    fake.torrents.set(h, { hash: h, name: "x", state: "downloading", progress: 0.2, tags: "", category: "" });
    const row = await insertDownload({ magnetLink: magnetOf(h) });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.sent).toEqual([{ download_id: row.id, hash: h, outcome: "already_in_qbittorrent" }]);
    expect(fake.counts().adds).toBe(0);
    expect(await reload(row.id)).toMatchObject({ status: "downloading", qbittorrentHash: h });
  });

  it("reads 5.2's 409 for a torrent URL as already there: downloading, not added twice", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith({ ...qbKey, ...PROWLARR });
    const url = `${PROWLARR.PROWLARR_URL}/4/download?link=dup`;
    // What qBittorrent fetched: the link with Prowlarr's key put back.
    const h = await hashOfUrl(url.replace("?", `?apikey=${PROWLARR.PROWLARR_API_KEY}&`));
    fake.torrents.set(h, { hash: h, name: "x", state: "uploading", progress: 1, tags: "", category: "" });
    const row = await insertDownload({ magnetLink: null, torrentUrl: url });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.sent).toEqual([{ download_id: row.id, hash: null, outcome: "duplicate" }]);
    expect(fake.torrents.size).toBe(1);
    expect((await reload(row.id)).status).toBe("downloading");
  });

  it("counts a refused add as a failed attempt, never as accepted", async () => {
    fakeQbittorrent({ style: "5.2", refuseAdds: true });
    const config = configWith({ ...qbKey, ...PROWLARR });
    const row = await insertDownload({ magnetLink: null, torrentUrl: `${PROWLARR.PROWLARR_URL}/3/download?link=refused` });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.refused).toEqual([{ download_id: row.id, reason: expect.stringContaining("added nothing") }]);
    expect(await reload(row.id)).toMatchObject({ status: "queued", retryCount: 1, qbittorrentStatus: "refused", nextRetry: ISO });
  });

  it("sends a torrent URL (hash unknown), then finds its hash by the download's tag", async () => {
    const fake = fakeQbittorrent({ style: "5.2", pending: true, urlFetchDelay: 2 });
    const config = configWith({ ...qbKey, ...PROWLARR });
    const url = `${PROWLARR.PROWLARR_URL}/1/download?link=${hash()}`;
    const row = await insertDownload({ magnetLink: null, torrentUrl: url });
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(report.sent).toEqual([{ download_id: row.id, hash: null, outcome: "pending" }]);
    expect(await reload(row.id)).toMatchObject({ status: "downloading", qbittorrentHash: null });
    // Still fetching: left alone within the grace period.
    await poll(db, qbittorrent(config), config, new Date());
    expect(await reload(row.id)).toMatchObject({ status: "downloading", qbittorrentHash: null });
    await poll(db, qbittorrent(config), config, new Date());
    const found = await reload(row.id);
    // Just fetched: qBittorrent checks it first.
    expect(found).toMatchObject({ status: "downloading", qbittorrentStatus: "checkingResumeData" });
    expect(found.qbittorrentHash).toBe([...fake.torrents.keys()][0]);
  });

  it("fails a URL download qBittorrent never showed after the grace period", async () => {
    fakeQbittorrent({ style: "4.x" });
    const config = configWith(qbLogin);
    const row = await insertDownload({
      status: "downloading",
      magnetLink: null,
      torrentUrl: "http://x.test/a.torrent",
      lastAttempt: new Date(Date.now() - 31 * MINUTE).toISOString(),
    });
    await poll(db, qbittorrent(config), config, new Date());
    expect(await reload(row.id)).toMatchObject({
      status: "queued",
      retryCount: 1,
      absImportError: "qBittorrent never added the torrent from its URL",
    });
  });

  it("records a torrent added by a run that stopped before recording it, instead of adding it again", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const config = configWith({ ...qbLogin, ...PROWLARR });
    const url = `${PROWLARR.PROWLARR_URL}/2/download?link=stopped`;
    const row = await insertDownload({
      magnetLink: null,
      torrentUrl: url,
      qbittorrentStatus: "sending",
      lastAttempt: new Date(Date.now() - 11 * MINUTE).toISOString(),
    });
    // The stopped run's add reached qBittorrent.
    await qbittorrent(config).add({ url, category: "audiobooks", tags: ["mamcrawler", `mamcrawler-${row.id}`] });
    const adds = fake.counts().adds;
    await send(db, qbittorrent(config), config, new Date());
    expect(fake.counts().adds).toBe(adds);
    expect(await reload(row.id)).toMatchObject({ status: "downloading", qbittorrentHash: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it("leaves a download claimed by a live run alone", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const config = configWith(qbLogin);
    const row = await insertDownload({ qbittorrentStatus: "sending", lastAttempt: new Date(Date.now() - MINUTE).toISOString() });
    await send(db, qbittorrent(config), config, new Date());
    expect(fake.counts().adds).toBe(0);
    expect((await reload(row.id)).status).toBe("queued");
  });
});

describe("QUEUE: the task", () => {
  it("never adds the same download twice when two runs go at once", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const config = configWith({ ...qbLogin, QB_MAX_ACTIVE: "4" });
    const rows = await Promise.all(Array.from({ length: 6 }, () => insertDownload()));
    const ctx = { db, env, config };
    await Promise.all([runQueue(ctx, undefined), runQueue(ctx, undefined), runQueue(ctx, undefined)]);
    const adds = fake.calls.filter((c) => c.url.pathname === "/api/v2/torrents/add").map((c) => new URLSearchParams(c.body).get("urls"));
    expect(new Set(adds).size).toBe(adds.length);
    expect(adds.length).toBe(4);
    const after = await db
      .select()
      .from(downloads)
      .where(
        inArray(
          downloads.id,
          rows.map((r) => r.id),
        ),
      );
    expect(after.filter((r) => r.status === "downloading")).toHaveLength(4);
    expect(after.filter((r) => r.status === "queued")).toHaveLength(2);
  });

  it("keeps downloads queued and records the failure when qBittorrent is down", async () => {
    fakeQbittorrent({ style: "4.x", down: 502 });
    const config = configWith(qbLogin);
    const queued = await insertDownload();
    const run = await runTask({ db, env, config }, TASKS.QUEUE, { kind: "manual", actor: "test" });
    expect(run).toMatchObject({ task_name: "QUEUE", status: "failed", error_message: expect.stringContaining("qBittorrent") });
    expect(run.error_message).not.toContain("Bad gateway");
    expect(await reload(queued.id)).toMatchObject({ status: "queued", qbittorrentStatus: null, qbittorrentHash: null });
  });

  it("keeps the poll's results when qBittorrent fails while sending", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const h = hash();
    const active = await insertDownload({ status: "downloading", qbittorrentHash: h });
    fake.torrents.set(h, { hash: h, name: "x", state: "uploading", progress: 1, tags: "", category: "" });
    const queued = await insertDownload();
    // The poll answers; the add that follows finds qBittorrent gone.
    const original = fake.spy.getMockImplementation()!;
    fake.spy.mockImplementation(async (input, init) => {
      const url = new URL(new Request(input as RequestInfo, init).url);
      if (url.pathname === "/api/v2/torrents/info" && url.searchParams.get("hashes") !== h) throw new TypeError("Network connection lost");
      return original(input, init);
    });
    const run = await runTask({ db, env, config }, TASKS.QUEUE, { kind: "manual", actor: "test" });
    expect(run.status).toBe("failed");
    expect(run.task_metadata).toMatchObject({ polled_at: ISO, completed: [active.id], send_failed: true });
    expect((await reload(active.id)).status).toBe("completed");
    expect(await reload(queued.id)).toMatchObject({ status: "queued", qbittorrentStatus: null });
  });

  it("polls, asks for a library scan after a completion, sends, and shows it all in monitor-status", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const h = hash();
    const done = await insertDownload({ status: "downloading", qbittorrentHash: h });
    fake.torrents.set(h, { hash: h, name: "x", state: "stalledUP", progress: 1, tags: "", category: "" });
    const next = await insertDownload();
    const scans: unknown[] = [];
    const outcome = await runQueue(
      {
        db,
        env,
        config: {
          ...config,
          integrations: {
            ...config.integrations,
            audiobookshelf: { configured: true, settings: { url: "http://abs.test", token: "t", libraryId: undefined } },
          },
        },
      },
      async (c) => scans.push(c),
    );
    expect(scans).toHaveLength(1);
    expect(outcome.metadata).toMatchObject({
      state_counts: { stalledUP: 1 },
      completed: [done.id],
      library_scan: "requested",
      sent: [{ download_id: next.id, outcome: "added" }],
    });
    expect((await reload(done.id)).absImportStatus).toBe("pending");
    await db.insert(tasks).values({ taskName: "QUEUE", status: "completed", taskMetadata: outcome.metadata ?? {} });
    const { monitorStatus } = await import("../../src/services/queue");
    const status = await monitorStatus(db, config);
    expect(status).toMatchObject({ configured: true, max_active: 3, polled_at: ISO, state_counts: { stalledUP: 1 } });
    expect(status.active_downloads).toEqual([expect.objectContaining({ download_id: next.id, progress: 0, qbittorrent_status: "sent" })]);
  });

  it("keeps qBittorrent's speed and ETA of each download at the last poll, for monitor-status", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const [fast, stuck] = [hash(), hash()];
    const moving = await insertDownload({ status: "downloading", qbittorrentHash: fast });
    const waiting = await insertDownload({ status: "downloading", qbittorrentHash: stuck });
    fake.torrents.set(fast, {
      hash: fast,
      name: "a",
      state: "downloading",
      progress: 0.42,
      tags: "",
      category: "",
      dlspeed: 1_200_000,
      eta: 600,
    });
    // No peers: qBittorrent's ETA is its "never" (8640000 s), answered as unknown.
    fake.torrents.set(stuck, { hash: stuck, name: "b", state: "metaDL", progress: 0, tags: "", category: "", dlspeed: 0, eta: 8_640_000 });
    const run = await runTask({ db, env, config }, TASKS.QUEUE, { kind: "manual", actor: "test" });
    expect(run.status).toBe("completed");
    const { monitorStatus } = await import("../../src/services/queue");
    const byId = new Map((await monitorStatus(db, config)).active_downloads.map((d) => [d.download_id, d]));
    expect(byId.get(moving.id)).toMatchObject({ progress: 0.42, download_speed: 1_200_000, eta_seconds: 600 });
    expect(byId.get(waiting.id)).toMatchObject({ progress: 0, download_speed: 0, eta_seconds: null });
  });
});

describe("QUEUE: links (README, Security notes)", () => {
  it("never hands qBittorrent a link outside Prowlarr's origin: refused in the run, abandoned", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith({ ...qbKey, ...PROWLARR, QB_MAX_ACTIVE: "10" });
    const links = [
      "http://169.254.169.254/latest/meta-data/",
      "file:///etc/passwd",
      "http://127.0.0.1:8080/api/v2/app/shutdown",
      "javascript:alert(1)",
      "data:application/x-bittorrent;base64,ZA==",
    ];
    const rows = [];
    for (const torrentUrl of links) rows.push(await insertDownload({ magnetLink: null, torrentUrl }));
    const report = await send(db, qbittorrent(config), config, new Date());
    expect(fake.counts().adds).toBe(0);
    expect(report.refused.map((r) => r.download_id).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const row of rows) {
      expect(await reload(row.id)).toMatchObject({
        status: "abandoned",
        absImportError: expect.stringMatching(/^Not sent to qBittorrent: /),
      });
    }
  });

  it("puts Prowlarr's key back only in what qBittorrent gets, only on its download path", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith({ ...qbKey, ...PROWLARR });
    const row = await insertDownload({ magnetLink: null, torrentUrl: `${PROWLARR.PROWLARR_URL}/7/download?link=abc&file=Book` });
    const other = await insertDownload({ magnetLink: null, torrentUrl: `${PROWLARR.PROWLARR_URL}/api/v1/system/status` });
    await send(db, qbittorrent(config), config, new Date());
    const sent = fake.calls
      .filter((c) => c.url.pathname === "/api/v2/torrents/add")
      .map((c) => new URLSearchParams(c.body).get("urls") ?? "");
    expect(sent.find((body) => body.includes("/7/download"))).toContain(
      `${PROWLARR.PROWLARR_URL}/7/download?apikey=${PROWLARR.PROWLARR_API_KEY}&link=abc&file=Book`,
    );
    expect(sent.find((body) => body.includes("/api/v1/system/status"))).not.toContain(PROWLARR.PROWLARR_API_KEY);
    expect((await reload(row.id)).torrentUrl).not.toContain(PROWLARR.PROWLARR_API_KEY);
    expect((await reload(other.id)).status).toBe("downloading");
  });
});
