import { env } from "cloudflare:workers";
import { inArray } from "drizzle-orm";
import { getConfig } from "../../src/config";
import { type Database, primaryDatabase, sessionDatabase } from "../../src/db/client";
import { selectJsonRows } from "../../src/db/json-rows";
import { books, downloads, missingBooks, notificationEndpoints, schedulerState } from "../../src/db/schema";
import { downloadTag, forgetSessions, QB_TAG } from "../../src/integrations/qbittorrent";
import { TASK_NAMES } from "../../src/scheduler/tasks";
import { createEndpoint } from "../../src/services/notifications";
import { NTFY_TOKEN, NTFY_URL } from "../integrations/fake-notify";
import type { MamTorrent } from "../integrations/fake-prowlarr";
import { configWith, fakeQbittorrent, qbKey } from "../integrations/fake-qbittorrent";

// The Free plan's measures and worst-case data, for test/scheduler/free-plan*.test.ts.

/**
 * The Free plan's limits per invocation (DEPLOYMENT.md, "Free or Paid"): 50 D1 queries and 50
 * subrequests (the Paid plan's: 1,000 queries). A statement in a batch counts as one query, as D1 bills it. Counted from the calls
 * the code really makes, through an instrumented D1 session and the fake outside service's log.
 */
export const FREE = { queries: 50, subrequests: 50 };
export const PAID = { queries: 1_000, subrequests: 1_000 };

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
export function countedDatabase(): { db: Database; counter: { queries: number } } {
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

export const plain = primaryDatabase(env);
/** `f(0)` … `f(n - 1)` as a non-empty list, for `db.batch`. */
export const each = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i)) as [T, ...T[]];
export const hash = () => Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * 100 downloads in `downloading` that all change at this poll: a fifth each completed, failed,
 * moved on, sent by URL (found by tag), gone from qBittorrent; 40 fill gaps; 10 more queued.
 */
export async function hundredActiveDownloads() {
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
          .values({ title: `Gap ${i}`, reasonMissing: "series_gap", downloadStatus: "downloading" })
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

/** `n` more active books, in series of 12 by authors of 120 books each (as the bench's library). */
export async function addBooks(n: number) {
  const start = Math.floor(Math.random() * 1e9);
  const rows = Array.from({ length: n }, (_, i) => {
    const k = start + i;
    return {
      title: `Free Plan Book ${k}`,
      author: `Free Author ${Math.floor(k / 120)}`,
      series: `Free Series ${Math.floor(k / 12)}`,
      seriesNumber: String((k % 12) + 1),
    };
  });
  // One statement a JSON slice (src/db/json-rows.ts): 10,000 books in a moment.
  for (const select of selectJsonRows(books, ["title", "author", "series", "seriesNumber"], rows)) await plain.insert(books).select(select);
}

/**
 * ACQUIRE's worst case at ACQUIRE_MAX_PER_RUN's default (5): 100 gaps whose download is in flight
 * (passed without a search), 30 open ones of which one in three has a release on the tracker.
 */
export async function acquisitionGaps(): Promise<MamTorrent[]> {
  const round = Math.floor(Math.random() * 1e9);
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
  await plain.batch(
    each(30, (i) =>
      plain
        .insert(missingBooks)
        .values({ title: `Wanted ${round} ${i}`, authorName: `Wanted Author${round}`, reasonMissing: "series_gap" }),
    ),
  );
  return Array.from({ length: 10 }, (_, i) => ({ title: `Wanted ${round} ${i * 3}`, author: `Wanted Author${round}` }));
}

/** The queue is global: each run starts with no download in flight, and no qBittorrent session. */
export async function emptyQueue() {
  forgetSessions();
  await plain
    .update(downloads)
    .set({ status: "abandoned" })
    .where(inArray(downloads.status, ["queued", "downloading"]));
}

/** Two ntfy endpoints told of every download that fails: QUEUE's 40 failures are 80 deliveries. */
export async function twoEndpoints() {
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
}

/** Every task's mark one tick before `tick`: the tasks due at `tick` are due, none twice. */
export async function marksBefore(tick: Date) {
  const before = new Date(tick.getTime() - 5 * 60_000).toISOString();
  await plain.batch(
    each(TASK_NAMES.length, (i) =>
      plain
        .insert(schedulerState)
        .values({ taskName: TASK_NAMES[i]!, lastCheckedAt: before, updatedAt: before })
        .onConflictDoUpdate({ target: schedulerState.taskName, set: { lastCheckedAt: before, paused: false, cron: null } }),
    ),
  );
}
