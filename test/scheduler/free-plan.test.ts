import { env } from "cloudflare:workers";
import { eq, inArray, isNull } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { type Database, primaryDatabase, sessionDatabase } from "../../src/db/client";
import {
  authors,
  books,
  downloads,
  missingBooks,
  notificationDeliveries,
  notificationEndpoints,
  schedulerState,
} from "../../src/db/schema";
import { downloadTag, forgetSessions, QB_TAG } from "../../src/integrations/qbittorrent";
import { dispatch } from "../../src/scheduler/dispatch";
import { runTask } from "../../src/scheduler/runs";
import { TASK_NAMES, TASKS, type TaskName } from "../../src/scheduler/tasks";
import { AUTHORS_PER_RUN } from "../../src/services/author-watch";
import { createEndpoint, MAX_SENDS_PER_RUN } from "../../src/services/notifications";
import { AUDIBLE_URL, type FakeBook, fakeAudible } from "../integrations/fake-audible";
import { fakeGoogle, GOOGLE_KEY, GOOGLE_URL } from "../integrations/fake-google-books";
import { NTFY_TOKEN, NTFY_URL } from "../integrations/fake-notify";
import { fakeMamProwlarr, type MamTorrent, PROWLARR } from "../integrations/fake-prowlarr";
import { configWith, fakeQbittorrent, qbKey } from "../integrations/fake-qbittorrent";

/**
 * The Free plan's limits per invocation (DEPLOYMENT.md, "Free or Paid"): 50 D1 queries and 50
 * subrequests (the Paid plan's: 1,000 queries). A statement in a batch counts as one query, as D1 bills it. Counted from the calls
 * the code really makes, through an instrumented D1 session and the fake outside service's log.
 */
const FREE = { queries: 50, subrequests: 50 };
const PAID = { queries: 1_000, subrequests: 1_000 };

class CountedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly counter: { queries: number },
  ) {}
  bind(...values: unknown[]) {
    return new CountedStatement(this.inner.bind(...values), this.counter);
  }
  first(column?: string) {
    this.counter.queries++;
    return column === undefined ? this.inner.first() : this.inner.first(column);
  }
  run() {
    this.counter.queries++;
    return this.inner.run();
  }
  all() {
    this.counter.queries++;
    return this.inner.all();
  }
  raw(options?: { columnNames?: boolean }) {
    this.counter.queries++;
    return this.inner.raw(options as { columnNames: true });
  }
}

/** A primary session whose statements are counted, batched ones one by one. */
function countedDatabase(): { db: Database; counter: { queries: number } } {
  const counter = { queries: 0 };
  const session = env.DB.withSession("first-primary");
  const counted = {
    prepare: (sql: string) => new CountedStatement(session.prepare(sql), counter),
    batch: (statements: CountedStatement[]) => {
      counter.queries += statements.length;
      return session.batch(statements.map((s) => s.inner));
    },
    getBookmark: () => session.getBookmark(),
  };
  return { db: sessionDatabase(counted as unknown as D1DatabaseSession), counter };
}

const plain = primaryDatabase(env);
/** `f(0)` … `f(n - 1)` as a non-empty list, for `db.batch`. */
const each = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i)) as [T, ...T[]];
const hash = () => Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => b.toString(16).padStart(2, "0")).join("");

beforeEach(async () => {
  forgetSessions();
  // The queue is global: each run starts with no download in flight.
  await plain
    .update(downloads)
    .set({ status: "abandoned" })
    .where(inArray(downloads.status, ["queued", "downloading"]));
});
afterEach(() => vi.restoreAllMocks());

/**
 * 100 downloads in `downloading` that all change at this poll: a fifth each completed, failed,
 * moved on, sent by URL (found by tag), gone from qBittorrent; 40 fill gaps; 10 more queued.
 */
async function hundredActiveDownloads() {
  const fake = fakeQbittorrent({ style: "5.2" });
  // 45 at once: the 40 still downloading after the poll leave 5 slots to send into.
  const config = configWith({ ...qbKey, QB_MAX_ACTIVE: "45" });
  const long = new Date(Date.now() - 3 * 3_600_000).toISOString();
  // One row a statement (D1 binds at most 100 parameters a statement), in one batch each.
  const gaps = (
    await plain.batch(
      each(40, (i) =>
        plain
          .insert(missingBooks)
          .values({ title: `Gap ${i}`, reasonMissing: "series_gap" })
          .returning({ id: missingBooks.id }),
      ),
    )
  ).map(([row]) => row!);
  const kinds = ["completed", "failed", "progress", "url", "gone"] as const;
  const rows = (
    await plain.batch(
      each(100, (i) =>
        plain
          .insert(downloads)
          .values({
            title: `Book ${i}`,
            source: "Prowlarr: MyAnonamouse",
            status: "downloading",
            qbittorrentHash: kinds[i % 5] === "url" ? null : hash(),
            qbittorrentStatus: "downloading",
            progress: 0.1,
            lastAttempt: long,
            missingBookId: i < 40 ? gaps[i]!.id : null,
          })
          .returning(),
      ),
    )
  ).map(([row]) => row!);
  rows.forEach((row, i) => {
    const kind = kinds[i % 5]!;
    if (kind === "gone") return;
    const h = row.qbittorrentHash ?? hash();
    const state = kind === "completed" ? "uploading" : kind === "failed" ? "error" : "downloading";
    fake.torrents.set(h, {
      hash: h,
      name: row.title,
      state,
      progress: kind === "completed" ? 1 : 0.5,
      tags: `${QB_TAG},${downloadTag(row.id)}`,
      category: "audiobooks",
    });
  });
  // Queued and due, to be sent once the poll frees slots.
  await plain.insert(downloads).values(
    Array.from({ length: 10 }, (_, i) => ({
      title: `Queued ${i}`,
      source: "MAM",
      magnetLink: `magnet:?xt=urn:btih:${hash()}&dn=Q${i}`,
    })),
  );

  return { fake, config, rows, gaps };
}

describe("QUEUE within the Free plan", () => {
  it("polls 100 active downloads that all change at once (completed, failed, moved on, sent by URL, gone), and sends: within 50 queries and 50 subrequests", async () => {
    const { fake, config, rows, gaps } = await hundredActiveDownloads();
    // As the dispatcher runs it: the task's row and its failed-attempt tally are counted too.
    const { db, counter } = countedDatabase();
    const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
    const run = await runTask({ db, env, config }, TASKS.QUEUE, { kind: "cron", scheduledTime: at, cron: TASKS.QUEUE.cron });
    const outcome = { metadata: run.task_metadata };

    expect(outcome.metadata).toMatchObject({ polled: 100 });
    expect((outcome.metadata as { sent: unknown[] }).sent).toHaveLength(5);
    expect((outcome.metadata as { completed: number[] }).completed).toHaveLength(20);
    expect((outcome.metadata as { failed: unknown[] }).failed).toHaveLength(40);
    const after = await plain
      .select()
      .from(downloads)
      .where(
        inArray(
          downloads.id,
          rows.map((r) => r.id),
        ),
      );
    expect(after.filter((r) => r.status === "completed")).toHaveLength(20);
    expect(after.filter((r) => r.status === "queued" && r.retryCount === 1)).toHaveLength(40);
    expect(after.filter((r) => r.status === "downloading" && r.progress === 0.5)).toHaveLength(40);
    const settledGaps = await plain
      .select()
      .from(missingBooks)
      .where(
        inArray(
          missingBooks.id,
          gaps.map((g) => g.id),
        ),
      );
    expect(settledGaps.filter((g) => g.downloadStatus === "completed")).toHaveLength(8);

    expect(counter.queries).toBeLessThanOrEqual(FREE.queries);
    expect(fake.calls.length).toBeLessThanOrEqual(FREE.subrequests);
  });
});

/** `n` more active books, in series of 12 by authors of 120 books each (as the bench's library). */
async function addBooks(n: number) {
  const start = Math.floor(Math.random() * 1e9);
  for (let from = 0; from < n; from += 100) {
    await plain.batch(
      each(Math.min(100, n - from), (i) => {
        const k = start + from + i;
        return plain.insert(books).values({
          title: `Free Plan Book ${k}`,
          author: `Free Author ${Math.floor(k / 120)}`,
          series: `Free Series ${Math.floor(k / 12)}`,
          seriesNumber: String((k % 12) + 1),
        });
      }),
    );
  }
}

/** One scheduled run of `name` as the dispatcher makes it, its D1 queries counted. */
async function queriesOf(name: TaskName, env2: Env = env) {
  const { db, counter } = countedDatabase();
  const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
  await runTask({ db, env: env2, config: getConfig(env2) }, TASKS[name], { kind: "cron", scheduledTime: at, cron: TASKS[name].cron });
  return counter.queries;
}

describe("the database-only tasks within the Free plan", () => {
  // Set-based statements: a bigger library costs the same number of queries.
  it.each(["GAPS", "SERIES", "AUTHOR", "CLEANUP"] as const)("%s: the same queries for 200 more books, within 50", async (name) => {
    await addBooks(50);
    const before = await queriesOf(name);
    await addBooks(200);
    const after = await queriesOf(name);
    expect(after).toBe(before);
    expect(after).toBeLessThanOrEqual(FREE.queries);
  });
});

describe("METADATA_FULL: a Paid plan task", () => {
  // DEPLOYMENT.md, "Free or Paid": a run looks up to 100 books in Google Books, about 4 queries
  // and one subrequest each: past the Free plan's 50 and 50, within the Paid plan's 1,000.
  it("looks up 100 books in one run: within the Paid plan's 1,000 queries and 1,000 subrequests", async () => {
    const fake = fakeGoogle({});
    await addBooks(150);
    const googleEnv = { ...env, GOOGLE_BOOKS_API_KEY: GOOGLE_KEY, GOOGLE_BOOKS_URL: GOOGLE_URL } as Env;
    const queries = await queriesOf("METADATA_FULL", googleEnv);
    expect(fake.calls.length).toBe(100);
    expect(queries).toBeLessThanOrEqual(PAID.queries);
  });
});

describe("a whole tick within the Free plan", () => {
  // GAPS, CLEANUP and QUEUE are due at 01:00 UTC: one invocation shares the limits among them, and
  // the notifications sent after them (the QUEUE's 40 failures each told to two endpoints).
  it("01:00 UTC (GAPS, CLEANUP, QUEUE with 100 active downloads, the notifications, and the dispatcher's own claims): within 50 queries and 50 subrequests", async () => {
    await addBooks(200);
    const { fake, config } = await hundredActiveDownloads();
    await plain.delete(notificationEndpoints);
    const actor = { identity: undefined, ip: "192.0.2.1", userAgent: null };
    for (const name of ["phone", "tablet"])
      await createEndpoint(plain, getConfig(env), actor, {
        name,
        kind: "ntfy",
        url: NTFY_URL,
        token: NTFY_TOKEN,
        events: ["download.failed", "download.abandoned"],
      });
    const tick = new Date("2042-03-04T01:00:00.000Z");
    const before = new Date(tick.getTime() - 5 * 60_000).toISOString();
    await plain.batch(
      each(TASK_NAMES.length, (i) =>
        plain
          .insert(schedulerState)
          .values({ taskName: TASK_NAMES[i]!, lastCheckedAt: before, updatedAt: before })
          .onConflictDoUpdate({ target: schedulerState.taskName, set: { lastCheckedAt: before, paused: false, cron: null } }),
      ),
    );
    const { db, counter } = countedDatabase();
    const result = await dispatch({ db, env, config }, tick);
    expect(result.ran.map((run) => run.task_name).sort()).toEqual(["CLEANUP", "GAPS", "QUEUE"]);
    // The fake qBittorrent answers every fetch: the ntfy sends are among its calls.
    expect(result.notifications).toMatchObject({ sent: MAX_SENDS_PER_RUN });
    expect(await plain.select().from(notificationDeliveries)).toHaveLength(80);
    expect(counter.queries).toBeLessThanOrEqual(FREE.queries);
    expect(fake.calls.length).toBeLessThanOrEqual(FREE.subrequests);
  });
});

describe("ACQUIRE within the Free plan", () => {
  // A run searches Prowlarr at most 3 times per download it may queue (ACQUIRE_MAX_PER_RUN, 5 by
  // default): gaps whose download is in flight cost nothing, nor does the library's size. The
  // downloads it queues are written together (src/services/downloads/create-many.ts): 8 queries
  // at the last count, 31 when each was written alone.
  it("passes 100 gaps whose downloads are in flight, searches 13 open ones and queues 5: within 50 queries and 50 subrequests, the same for 200 more books", async () => {
    const start = Math.floor(Math.random() * 1e9);
    const torrents: MamTorrent[] = [];
    const rounds = [];
    for (const more of [50, 200]) {
      await addBooks(more);
      // The gaps of earlier runs read as done: skipped without a search.
      await plain.update(missingBooks).set({ downloadStatus: "completed" }).where(isNull(missingBooks.bookId));
      const round = `${start}${more}`;
      // 100 gaps whose download is in flight (series gaps, first in the run's order).
      await plain.batch(
        each(100, (i) =>
          plain.insert(missingBooks).values({
            title: `Flight ${round} ${i}`,
            authorName: `Flight Author ${round}`,
            reasonMissing: "series_gap",
            downloadStatus: "downloading",
          }),
        ),
      );
      // 30 open gaps: one in three has a release on the tracker, the others cost a search each.
      await plain.batch(
        each(30, (i) =>
          plain
            .insert(missingBooks)
            .values({ title: `Wanted ${round} ${i}`, authorName: `Wanted Author${round}`, reasonMissing: "series_gap" }),
        ),
      );
      for (let i = 0; i < 30; i += 3) torrents.push({ title: `Wanted ${round} ${i}`, author: `Wanted Author${round}` });
      const fake = fakeMamProwlarr(torrents);
      const { db, counter } = countedDatabase();
      const acquireEnv = { ...env, ...PROWLARR } as Env;
      const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
      const run = await runTask({ db, env: acquireEnv, config: getConfig(acquireEnv) }, TASKS.ACQUIRE, {
        kind: "cron",
        scheduledTime: at,
        cron: TASKS.ACQUIRE.cron,
      });
      expect(run.task_metadata).toMatchObject({ searched: 13 });
      expect((run.task_metadata as { queued: unknown[] }).queued).toHaveLength(5);
      rounds.push({ queries: counter.queries, subrequests: fake.calls.length });
    }
    expect(rounds[1]).toEqual(rounds[0]);
    expect(rounds[0]!.queries).toBeLessThanOrEqual(FREE.queries);
    expect(rounds[0]!.subrequests).toBeLessThanOrEqual(FREE.subrequests);
  });
});

describe("AUTHOR_WATCH within the Free plan", () => {
  // One Audible call per favourite author (AUTHORS_PER_RUN a run); what they have and what is new
  // is read and written for all of them at once.
  it(`asks Audible about ${AUTHORS_PER_RUN} favourite authors and records their 300 new books: within 50 queries and 50 subrequests, the same for 200 more books`, async () => {
    const start = Math.floor(Math.random() * 1e9);
    const names = each(AUTHORS_PER_RUN, (i) => `Watched Author ${start + i}`);
    // The most-owned authors of the library, so these are the run's favourites.
    await plain.insert(authors).values(names.map((name) => ({ name, audiobooksOwned: 1_000_000 })));
    const catalogue: FakeBook[] = names.flatMap((author, a) =>
      Array.from({ length: 17 }, (_, i) => ({ asin: `B${start}A${a}T${i}`, title: `Watched Title ${a} ${i}`, author })),
    );
    // Two of each author's books are already owned: not new.
    await plain.batch(
      each(names.length, (a) => plain.insert(books).values([0, 1].map((i) => ({ title: `Watched Title ${a} ${i}`, author: names[a]! })))),
    );
    const rounds = [];
    for (const more of [50, 200]) {
      await addBooks(more);
      await plain.delete(missingBooks).where(eq(missingBooks.reasonMissing, "new_release"));
      const fake = fakeAudible(catalogue, []);
      const watchEnv = { ...env, AUDIBLE_URL } as Env;
      const { db, counter } = countedDatabase();
      const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
      const run = await runTask({ db, env: watchEnv, config: getConfig(watchEnv) }, TASKS.AUTHOR_WATCH, {
        kind: "cron",
        scheduledTime: at,
        cron: TASKS.AUTHOR_WATCH.cron,
      });
      expect(run.task_metadata).toMatchObject({ authors_asked: AUTHORS_PER_RUN, new_releases: AUTHORS_PER_RUN * 15 });
      rounds.push({ queries: counter.queries, subrequests: fake.calls.length });
      vi.restoreAllMocks();
    }
    expect(rounds[1]).toEqual(rounds[0]);
    expect(rounds[0]!.queries).toBeLessThanOrEqual(FREE.queries);
    expect(rounds[0]!.subrequests).toBeLessThanOrEqual(FREE.subrequests);
  });
});
