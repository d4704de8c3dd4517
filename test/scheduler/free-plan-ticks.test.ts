import { env } from "cloudflare:workers";
import { inArray, isNull } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { missingBooks, notificationDeliveries, notificationEndpoints, schedulerState } from "../../src/db/schema";
import { dispatch } from "../../src/scheduler/dispatch";
import { TASK_NAMES } from "../../src/scheduler/tasks";
import { createEndpoint, MAX_SENDS_PER_RUN } from "../../src/services/notifications";
import { fakeReceivers, NTFY_TOKEN, NTFY_URL } from "../integrations/fake-notify";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";
import { QB_URL, qbKey } from "../integrations/fake-qbittorrent";
import { fakeOrigins, handlerOf } from "../integrations/fake-upstream";
import { acquisitionGaps, addBooks, countedDatabase, each, emptyQueue, FREE, hundredActiveDownloads, plain } from "./free-plan-fixtures";

/**
 * Whole ticks within the Free plan's limits per invocation (DEPLOYMENT.md, "Free or Paid"): the
 * tasks due at one tick run in one invocation (src/scheduler/dispatch.ts) and share its 50 D1 queries
 * and 50 subrequests, with the dispatcher's own reads and claims and the notifications it sends.
 */

beforeEach(async () => {
  await emptyQueue();
  // No open gap but the tick's own.
  await plain.update(missingBooks).set({ downloadStatus: "completed" }).where(isNull(missingBooks.bookId));
});
afterEach(() => vi.restoreAllMocks());

/** Two ntfy endpoints told of every download that fails: QUEUE's 40 failures are 80 deliveries. */
async function twoEndpoints() {
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
async function marksBefore(tick: Date) {
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

describe("a whole tick within the Free plan", () => {
  // GAPS, CLEANUP and QUEUE are due at 01:00 UTC, on 10,000 books. The notifications of QUEUE's 40
  // failures (80 deliveries) wait for the next tick: a task besides QUEUE and CATALOGUE ran.
  // Counted: 49 queries, 12 subrequests (51 and 17, over the limit, when the 5 sends went out at this tick).
  it("01:00 UTC (GAPS, CLEANUP, QUEUE with 100 active downloads and the dispatcher's own claims; the sends wait 5 minutes): within 50 queries and 50 subrequests", async () => {
    await addBooks(10_000);
    const { fake, config } = await hundredActiveDownloads();
    await twoEndpoints();
    const tick = new Date("2042-03-04T01:00:00.000Z");
    await marksBefore(tick);
    const { db, counter } = countedDatabase();
    const result = await dispatch({ db, env, config }, tick);
    expect(result.ran.map((run) => run.task_name).sort()).toEqual(["CLEANUP", "GAPS", "QUEUE"]);
    expect(result).toMatchObject({ notifications_deferred: true, notifications: null });
    expect(
      await plain
        .select()
        .from(notificationDeliveries)
        .where(inArray(notificationDeliveries.status, ["pending"])),
    ).toHaveLength(80);
    expect(counter.queries).toBeLessThanOrEqual(FREE.queries);
    expect(fake.calls.length).toBeLessThanOrEqual(FREE.subrequests);

    // The next tick (QUEUE alone here, its downloads settled) sends them, 5 a tick.
    const next = await dispatch({ db, env, config }, new Date("2042-03-04T01:05:00.000Z"));
    expect(next).toMatchObject({ notifications_deferred: false, notifications: { sent: MAX_SENDS_PER_RUN } });
  });

  // ACQUIRE and QUEUE are due at 01:30 UTC: ACQUIRE's 5 downloads are written together
  // (src/services/downloads/create-many.ts). Counted: 33 queries, 25 subrequests (13 Prowlarr
  // searches, 12 qBittorrent calls); 56 queries when each download was written alone.
  it("01:30 UTC as one invocation (ACQUIRE queueing 5 downloads, QUEUE with 100 active downloads all changing, 10,000 books): within 50 queries and 50 subrequests", async () => {
    await addBooks(10_000);
    const { fake: qb } = await hundredActiveDownloads();
    const toQb = handlerOf(qb);
    const prowlarr = fakeMamProwlarr(await acquisitionGaps());
    const toProwlarr = handlerOf(prowlarr);
    const receivers = fakeReceivers();
    const toReceivers = handlerOf(receivers);
    await twoEndpoints();
    const outside = fakeOrigins({
      [QB_URL]: toQb,
      [PROWLARR.PROWLARR_URL]: toProwlarr,
      [new URL(NTFY_URL).origin]: toReceivers,
    });
    const tickEnv = { ...env, ...qbKey, QB_MAX_ACTIVE: "45", ...PROWLARR } as Env;
    const tick = new Date("2042-03-04T01:30:00.000Z");
    await marksBefore(tick);
    const { db, counter } = countedDatabase();
    const result = await dispatch({ db, env: tickEnv, config: getConfig(tickEnv) }, tick);

    expect(result.ran.map((run) => [run.task_name, run.status])).toEqual([
      ["ACQUIRE", "completed"],
      ["QUEUE", "completed"],
    ]);
    const [acquire, queue] = result.ran.map((run) => run.task_metadata as Record<string, unknown[] | number>);
    expect(acquire).toMatchObject({ searched: 13 });
    expect(acquire!.queued).toHaveLength(5);
    expect(queue).toMatchObject({ polled: 100 });
    expect(queue!.failed).toHaveLength(40);
    expect(queue!.sent).toHaveLength(5);
    expect(result.notifications_deferred).toBe(true);
    expect(prowlarr.queries).toHaveLength(13);
    // Every request is the Worker's own: Prowlarr's searches and qBittorrent's API.
    expect(new Set(outside.calls.map((url) => url.origin))).toEqual(new Set([PROWLARR.PROWLARR_URL, QB_URL]));
    expect(counter.queries).toBeLessThanOrEqual(FREE.queries);
    expect(outside.calls.length).toBeLessThanOrEqual(FREE.subrequests);
  });
});
