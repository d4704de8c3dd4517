import { env } from "cloudflare:workers";
import { inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Database, primaryDatabase, sessionDatabase } from "../../src/db/client";
import { downloads, missingBooks } from "../../src/db/schema";
import { downloadTag, forgetSessions, QB_TAG } from "../../src/integrations/qbittorrent";
import { runQueue } from "../../src/services/queue";
import { configWith, fakeQbittorrent, qbKey } from "../integrations/fake-qbittorrent";

/**
 * The Free plan's limits per invocation (DEPLOYMENT.md, "Free or Paid"): 50 D1 queries and 50
 * subrequests. A statement in a batch counts as one query, as D1 bills it. Counted from the calls
 * the code really makes, through an instrumented D1 session and the fake outside service's log.
 */
const FREE = { queries: 50, subrequests: 50 };

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

describe("QUEUE within the Free plan", () => {
  it("polls 100 active downloads that all change at once (completed, failed, moved on, sent by URL, gone), and sends: within 50 queries and 50 subrequests", async () => {
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

    const { db, counter } = countedDatabase();
    const outcome = await runQueue({ db, env, config }, undefined);

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
