import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { authors, healthStates, missingBooks } from "../../src/db/schema";
import { dispatch, dueBetween } from "../../src/scheduler/dispatch";
import { TICK_MS } from "../../src/scheduler/schedule";
import { TASK_LIST } from "../../src/scheduler/tasks";
import { AUTHORS_PER_RUN } from "../../src/services/author-watch";
import { librarySyncTask } from "../../src/services/library-sync";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";
import { AUDIBLE_URL, fakeAudible } from "../integrations/fake-audible";
import { fakeReceivers, NTFY_URL } from "../integrations/fake-notify";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";
import { QB_URL, qbKey } from "../integrations/fake-qbittorrent";
import { fakeOrigins, handlerOf } from "../integrations/fake-upstream";
import {
  acquisitionGaps,
  countedDatabase,
  emptyQueue,
  FREE,
  hundredActiveDownloads,
  marksBefore,
  plain,
  twoEndpoints,
} from "./free-plan-fixtures";

/**
 * A day of the real schedule (src/scheduler/tasks.ts, the default crons) within the Free plan's
 * limits per invocation (DEPLOYMENT.md, "Free or Paid"). Every tick of the day is walked as the
 * dispatcher decides what is due (dueBetween); the ticks where the same tasks run (and the health
 * probes, or not) cost the same on the same data, so one invocation of each kind is dispatched for
 * real, each on the worst case: 10,000 books from Audiobookshelf, 100 active downloads all changing
 * at that poll, 5 free slots, every failure told to two endpoints, gaps open with releases, 20
 * favourite authors, 833 series to ask Audible about, a health state changing at every probe.
 * The tasks DEPLOYMENT.md lists as Paid (METADATA_NEW, METADATA_FULL) are left out. Counted
 * (queries / subrequests): :00 and :30 23 / 15, the other ticks (CATALOGUE, the probes, the sends)
 * 33 / 49, 01:00 45 / 10, 01:30 29 / 23, 02:00 (LIBRARY_SYNC) 50 / 31, 03:00 33 / 30.
 */

/** Sunday 2 March 2042: AUTHOR_WATCH (Sundays) and SERIES (the 2nd) at 03:00, METADATA_NEW at 04:30. */
const DAY = Date.UTC(2042, 2, 2);
const PAID_TASKS: ReadonlySet<string> = new Set(["METADATA_NEW", "METADATA_FULL"]);
const LIBRARY_ITEMS = 10_000;

afterEach(() => vi.restoreAllMocks());

/** The day's ticks by what runs there: the first tick of each kind, keyed by its tasks (+ the probes). */
function kindsOfTicks(day: number): Map<string, Date> {
  const kinds = new Map<string, Date>();
  for (let t = day; t < day + 86_400_000; t += TICK_MS) {
    const at = new Date(t);
    const due = TASK_LIST.filter((task) => dueBetween(task.cron, new Date(t - TICK_MS), at)).map((task) => task.name);
    // As src/scheduler/dispatch.ts: the health probes at every tick but :00 and :30.
    const key = `${due.join(" ")}${at.getUTCMinutes() % 30 !== 0 ? " +probes" : ""}`;
    if (!kinds.has(key)) kinds.set(key, at);
  }
  return kinds;
}

const library = Array.from({ length: LIBRARY_ITEMS }, (_, i) =>
  absItem(`day-${i}`, {
    title: `Day Book ${i}`,
    authorName: `Day Author ${Math.floor(i / 120)}`,
    seriesName: `Day Saga ${Math.floor(i / 12)} #${(i % 12) + 1}`,
  }),
);

describe("a day of the schedule within the Free plan", () => {
  it("walks every tick of 2042-03-02 (a Sunday and the 2nd): each kind of invocation, on the worst case, within 50 queries and 50 subrequests (the Paid tasks aside)", {
    timeout: 300_000,
  }, async () => {
    const dayEnv = { ...env, ...qbKey, QB_MAX_ACTIVE: "45", ...PROWLARR, AUDIBLE_URL, ABS_URL, ABS_TOKEN } as Env;
    const config = getConfig(dayEnv);
    // The library seen before: its first sync (Paid, DEPLOYMENT.md) is done here, not counted.
    fakeAbs([{ id: "lib_books", items: library }]);
    expect((await librarySyncTask(plain, config)).processed).toBe(LIBRARY_ITEMS);
    vi.restoreAllMocks();
    await plain
      .insert(authors)
      .values(Array.from({ length: AUTHORS_PER_RUN }, (_, i) => ({ name: `Day Favourite ${i}`, audiobooksOwned: 1_000_000 })));
    await twoEndpoints();

    const kinds = kindsOfTicks(DAY);
    const costs: { kind: string; at: string; queries: number; subrequests: number }[] = [];
    for (const [kind, at] of kinds) {
      const tasks = kind.replace(" +probes", "").split(" ");
      if (tasks.some((name) => PAID_TASKS.has(name))) continue;
      await emptyQueue();
      // No gap but this tick's (ACQUIRE reads 500 open gaps at most: earlier ones would hide them).
      await plain.delete(missingBooks);
      const { fake: qb } = await hundredActiveDownloads();
      const toQb = handlerOf(qb);
      const toProwlarr = handlerOf(fakeMamProwlarr(await acquisitionGaps()));
      const toAudible = handlerOf(fakeAudible([], []));
      const toAbs = handlerOf(fakeAbs([{ id: "lib_books", items: library }]));
      const toReceivers = handlerOf(fakeReceivers());
      const outside = fakeOrigins({
        [QB_URL]: toQb,
        [PROWLARR.PROWLARR_URL]: toProwlarr,
        [AUDIBLE_URL]: toAudible,
        [ABS_URL]: toAbs,
        [new URL(NTFY_URL).origin]: toReceivers,
      });
      // The probes find the limiter changed (it answers, after a degraded state): the dearer case.
      await plain
        .insert(healthStates)
        .values({ name: "limiter", status: "degraded", since: DAY_ISO })
        .onConflictDoUpdate({ target: healthStates.name, set: { status: "degraded" } });
      await marksBefore(at);
      const { db, counter } = countedDatabase();
      const result = await dispatch({ db, env: dayEnv, config }, at);
      expect(result.ran.map((run) => run.task_name).join(" "), kind).toBe(tasks.join(" "));
      expect(
        result.ran.filter((run) => run.status !== "completed"),
        kind,
      ).toEqual([]);
      // Each task did its worst case's work.
      const work = Object.fromEntries(result.ran.map((run) => [run.task_name, run.task_metadata as Record<string, unknown>]));
      expect(work.QUEUE, kind).toMatchObject({ polled: 100 });
      if (work.ACQUIRE) expect(work.ACQUIRE, kind).toMatchObject({ searched: 13, queued: expect.arrayContaining([expect.anything()]) });
      if (work.CATALOGUE) expect(work.CATALOGUE.calls, kind).toBeGreaterThanOrEqual(30);
      if (work.LIBRARY_SYNC) expect(result.ran.find((run) => run.task_name === "LIBRARY_SYNC")!.items_processed, kind).toBe(LIBRARY_ITEMS);
      if (work.AUTHOR_WATCH) expect(work.AUTHOR_WATCH, kind).toMatchObject({ authors_asked: AUTHORS_PER_RUN });
      // The probes' limiter call goes to a Durable Object: a subrequest that is not a fetch.
      const probes = kind.endsWith("+probes") ? 1 : 0;
      costs.push({ kind, at: at.toISOString(), queries: counter.queries, subrequests: outside.calls.length + probes });
      vi.restoreAllMocks();
    }
    console.log(`free plan, a day: ${JSON.stringify(costs)}`);
    // Every task but the Paid ones and AUTHOR and METADATA_FULL (the 3rd and the 1st of a month) ran.
    expect(new Set(costs.flatMap((c) => c.kind.replace(" +probes", "").split(" ")))).toEqual(
      new Set(TASK_LIST.map((task) => task.name).filter((name) => !PAID_TASKS.has(name) && name !== "AUTHOR")),
    );
    expect(costs.filter((c) => c.queries > FREE.queries || c.subrequests > FREE.subrequests)).toEqual([]);
  });
});

const DAY_ISO = new Date(DAY).toISOString();
