import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../../src/config";
import { primaryDatabase } from "../../../src/db/client";
import { downloads, notificationDeliveries, notificationEndpoints } from "../../../src/db/schema";
import { downloadTag, forgetSessions, QB_TAG, qbittorrent } from "../../../src/integrations/qbittorrent";
import { runTask } from "../../../src/scheduler/runs";
import { TASKS } from "../../../src/scheduler/tasks";
import { createEndpoint } from "../../../src/services/notifications";
import { poll } from "../../../src/services/queue";
import { NTFY_TOKEN, NTFY_URL } from "../../integrations/fake-notify";
import { configWith, fakeQbittorrent, qbKey } from "../../integrations/fake-qbittorrent";
import { fakeUpstream } from "../../integrations/fake-upstream";

// The events that exist today, each told through enqueueNotification where it is noticed.

const db = primaryDatabase(env);
const actor = { identity: undefined, ip: "192.0.2.1", userAgent: null };
const hash = () => Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => b.toString(16).padStart(2, "0")).join("");

let endpointId: number;
beforeEach(async () => {
  forgetSessions();
  await db.delete(notificationEndpoints);
  await db
    .update(downloads)
    .set({ status: "abandoned" })
    .where(inArray(downloads.status, ["queued", "downloading"]));
  const endpoint = await createEndpoint(db, getConfig(env), actor, {
    name: "all",
    kind: "ntfy",
    url: NTFY_URL,
    token: NTFY_TOKEN,
    events: ["download.failed", "download.abandoned", "task.failed"],
  });
  endpointId = endpoint.id;
});
afterEach(() => vi.restoreAllMocks());

const told = async () =>
  (await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.endpointId, endpointId))).map((d) => ({
    event: d.event,
    data: d.payload.data,
  }));

describe("QUEUE's failed downloads", () => {
  it("a failed attempt is download.failed, the last one download.abandoned, in the poll's own batch; nothing is sent", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const config = configWith(qbKey);
    const rows = [];
    for (const retryCount of [0, 2]) {
      const h = hash();
      const [row] = await db
        .insert(downloads)
        .values({
          title: `Failing ${retryCount}`,
          source: "MAM",
          status: "downloading",
          qbittorrentHash: h,
          qbittorrentStatus: "downloading",
          retryCount,
        })
        .returning();
      rows.push(row!);
      fake.torrents.set(h, {
        hash: h,
        name: row!.title,
        state: "error",
        progress: 0.2,
        tags: `${QB_TAG},${downloadTag(row!.id)}`,
        category: "audiobooks",
      });
    }
    await poll(db, qbittorrent(config), config, new Date("2033-01-01T00:00:00.000Z"));
    expect((await db.select().from(downloads).where(eq(downloads.id, rows[1]!.id)).get())!.status).toBe("abandoned");
    expect(await told()).toEqual([
      {
        event: "download.failed",
        data: {
          download_id: rows[0]!.id,
          title: "Failing 0",
          reason: "qBittorrent reports error",
          attempts: 1,
          max_retries: 3,
          missing_book_id: null,
        },
      },
      {
        event: "download.abandoned",
        data: {
          download_id: rows[1]!.id,
          title: "Failing 2",
          reason: "qBittorrent reports error",
          attempts: 3,
          max_retries: 3,
          missing_book_id: null,
        },
      },
    ]);
    expect(fake.calls.every((c) => c.url.host !== "ntfy.example.test")).toBe(true);
  });
});

describe("a scheduled task that fails", () => {
  it("is told as task.failed with its reason, once per failed run", async () => {
    // qBittorrent cannot be reached while a download is queued: QUEUE fails.
    fakeUpstream(() => {
      throw new TypeError("fetch failed: connection refused");
    });
    await db.insert(downloads).values({ title: "Queued", source: "MAM", magnetLink: `magnet:?xt=urn:btih:${hash()}&dn=Q` });
    const run = await runTask({ db, env, config: configWith(qbKey) }, TASKS.QUEUE, {
      kind: "cron",
      scheduledTime: new Date("2033-02-01T00:05:00.000Z"),
    });
    expect(run.status).toBe("failed");
    expect(await told()).toEqual([
      {
        event: "task.failed",
        data: { task: "QUEUE", task_id: run.id, trigger: "cron", reason: expect.stringContaining("qBittorrent could not be reached") },
      },
    ]);
  });

  it("a task that completes tells nothing", async () => {
    const run = await runTask({ db, env, config: getConfig(env) }, TASKS.SERIES, { kind: "manual", actor: "test" });
    expect(run.status).toBe("completed");
    expect(await told()).toEqual([]);
  });
});
