import { env } from "cloudflare:workers";
import { eq, inArray, isNull } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { authors, books, downloads, missingBooks } from "../../src/db/schema";
import { runTask } from "../../src/scheduler/runs";
import { TASKS, type TaskName } from "../../src/scheduler/tasks";
import { AUTHORS_PER_RUN } from "../../src/services/author-watch";
import { QUEUE_SENDS_PER_RUN } from "../../src/services/queue";
import { AUDIBLE_URL, type FakeBook, fakeAudible } from "../integrations/fake-audible";
import { fakeGoogle, GOOGLE_KEY, GOOGLE_URL } from "../integrations/fake-google-books";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";
import {
  acquisitionGaps,
  addBooks,
  countedDatabase,
  each,
  emptyQueue,
  FREE,
  hundredActiveDownloads,
  PAID,
  plain,
} from "./free-plan-fixtures";

/**
 * Each scheduled task alone within the Free plan's limits per invocation (DEPLOYMENT.md, "Free or
 * Paid"), counted as ./free-plan-fixtures.ts says; whole ticks in ./free-plan-ticks.test.ts.
 */

beforeEach(emptyQueue);
afterEach(() => vi.restoreAllMocks());

describe("QUEUE within the Free plan", () => {
  it("polls 100 active downloads that all change at once (completed, failed, moved on, sent by URL, gone), and sends: within 50 queries and 50 subrequests", async () => {
    const { fake, config, rows, gaps } = await hundredActiveDownloads();
    // As the dispatcher runs it: the task's row and its failed-attempt tally are counted too.
    const { db, counter } = countedDatabase();
    const at = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
    const run = await runTask({ db, env, config }, TASKS.QUEUE, { kind: "cron", scheduledTime: at, cron: TASKS.QUEUE.cron });
    const outcome = { metadata: run.task_metadata };

    expect(outcome.metadata).toMatchObject({ polled: 100 });
    // 5 slots free: QUEUE_SENDS_PER_RUN of them filled at this tick, the others at the next.
    expect((outcome.metadata as { sent: unknown[] }).sent).toHaveLength(QUEUE_SENDS_PER_RUN);
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

describe("ACQUIRE within the Free plan", () => {
  // A run searches Prowlarr at most 3 times per download it may queue (ACQUIRE_MAX_PER_RUN, 5 by
  // default): gaps whose download is in flight cost nothing, nor does the library's size. The
  // downloads it queues are written together (src/services/downloads/create-many.ts): 8 queries
  // at the last count, 31 when each was written alone.
  it("passes 100 gaps whose downloads are in flight, searches 13 open ones and queues 5: within 50 queries and 50 subrequests, the same for 200 more books", async () => {
    const rounds = [];
    for (const more of [50, 200]) {
      await addBooks(more);
      // The gaps of earlier runs read as done: skipped without a search.
      await plain.update(missingBooks).set({ downloadStatus: "completed" }).where(isNull(missingBooks.bookId));
      const torrents = await acquisitionGaps();
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
