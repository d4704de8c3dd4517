import { env } from "cloudflare:workers";
import { inArray, isNull } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { missingBooks, notificationDeliveries } from "../../src/db/schema";
import { dispatch } from "../../src/scheduler/dispatch";
import { MAX_SENDS_PER_RUN } from "../../src/services/notifications";
import { QUEUE_SENDS_PER_RUN } from "../../src/services/queue";
import { fakeReceivers, NTFY_URL } from "../integrations/fake-notify";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";
import { QB_URL, qbKey } from "../integrations/fake-qbittorrent";
import { fakeOrigins, handlerOf } from "../integrations/fake-upstream";
import {
  acquisitionGaps,
  addBooks,
  countedDatabase,
  emptyQueue,
  FREE,
  hundredActiveDownloads,
  marksBefore,
  plain,
  twoEndpoints,
} from "./free-plan-fixtures";

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

describe("a whole tick within the Free plan", () => {
  // GAPS, CLEANUP and QUEUE are due at 01:00 UTC, on 10,000 books. The notifications of QUEUE's 40
  // failures (80 deliveries) wait for the next tick: a task besides QUEUE and CATALOGUE ran.
  // Counted: 45 queries, 8 subrequests (with the 5 sends at this tick and QUEUE sending 5 as it
  // did before QUEUE_SENDS_PER_RUN: 51 queries, over the limit).
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
  // (src/services/downloads/create-many.ts). Counted: 29 queries, 21 subrequests (13 Prowlarr
  // searches, 8 qBittorrent calls); 56 queries when each download was written alone and QUEUE sent 5.
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
    expect(queue!.sent).toHaveLength(QUEUE_SENDS_PER_RUN);
    expect(result.notifications_deferred).toBe(true);
    expect(prowlarr.queries).toHaveLength(13);
    // Every request is the Worker's own: Prowlarr's searches and qBittorrent's API.
    expect(new Set(outside.calls.map((url) => url.origin))).toEqual(new Set([PROWLARR.PROWLARR_URL, QB_URL]));
    expect(counter.queries).toBeLessThanOrEqual(FREE.queries);
    expect(outside.calls.length).toBeLessThanOrEqual(FREE.subrequests);
  });
});
