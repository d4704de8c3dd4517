import { env } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../../src/config";
import { primaryDatabase } from "../../../src/db/client";
import { notificationDeliveries, notificationEndpoints } from "../../../src/db/schema";
import {
  createEndpoint,
  deliverDue,
  enqueueNotification,
  enqueueNotifications,
  MAX_ATTEMPTS,
  MAX_SENDS_PER_RUN,
} from "../../../src/services/notifications";
import { RETRY_BASE_MS } from "../../../src/services/notifications/deliver";
import { DISCORD_URL, fakeReceivers, NTFY_TOKEN, NTFY_URL, WEBHOOK_URL } from "../../integrations/fake-notify";

const db = primaryDatabase(env);
const config = getConfig(env);
const actor = { identity: undefined, ip: "192.0.2.1", userAgent: null };
const at = (iso: string) => new Date(iso);
const deliveriesOf = (endpointId: number) =>
  db.select().from(notificationDeliveries).where(eq(notificationDeliveries.endpointId, endpointId));

beforeEach(async () => {
  await db.delete(notificationEndpoints);
});
afterEach(() => vi.restoreAllMocks());

async function register(kind: "webhook" | "discord" | "ntfy", events: string[] = ["download.failed", "task.failed"]) {
  const url = { webhook: WEBHOOK_URL, discord: DISCORD_URL, ntfy: NTFY_URL }[kind];
  return createEndpoint(db, config, actor, {
    name: kind,
    kind,
    url,
    events: events as never,
    ...(kind === "ntfy" ? { token: NTFY_TOKEN } : {}),
  });
}

describe("enqueueNotification", () => {
  it("writes one delivery per subscribed, enabled endpoint, in one statement, and sends nothing", async () => {
    const receivers = fakeReceivers();
    const a = await register("webhook", ["task.failed"]);
    const b = await register("ntfy", ["task.failed", "download.failed"]);
    const c = await register("discord", ["download.abandoned"]);
    const off = await register("webhook", ["task.failed"]);
    await db.update(notificationEndpoints).set({ enabled: false }).where(eq(notificationEndpoints.id, off.id));
    const result = await enqueueNotifications(db, [
      { event: "task.failed", data: { task: "GAPS" } },
      { event: "download.failed", data: { download_id: 1 } },
    ]).run();
    expect(result.meta.changes).toBe(3);
    expect((await deliveriesOf(a.id)).map((d) => d.event)).toEqual(["task.failed"]);
    expect((await deliveriesOf(b.id)).map((d) => d.event).sort()).toEqual(["download.failed", "task.failed"]);
    expect(await deliveriesOf(c.id)).toHaveLength(0);
    expect(await deliveriesOf(off.id)).toHaveLength(0);
    expect(receivers.calls).toHaveLength(0);
  });
});

describe("enqueueNotification's condition", () => {
  it("tells the event only when the condition holds as the statement runs", async () => {
    const n = await register("ntfy", ["task.failed"]);
    await enqueueNotification(db, "task.failed", { task: "A" }, new Date(), sql`1 = 0`);
    await enqueueNotification(
      db,
      "task.failed",
      { task: "B" },
      new Date(),
      sql`EXISTS (SELECT 1 FROM notification_endpoints WHERE id = ${n.id})`,
    );
    expect((await deliveriesOf(n.id)).map((d) => d.payload.data.task)).toEqual(["B"]);
  });
});

describe("the dispatcher's sends", () => {
  it("a webhook signed per Standard Webhooks, verified by the receiver; Discord 204; ntfy 200: delivered", async () => {
    let secret: string | undefined;
    const now = at("2031-05-06T07:08:09.000Z");
    const receivers = fakeReceivers({ secret: () => secret, nowSeconds: () => Math.floor(now.getTime() / 1000) });
    const w = await register("webhook");
    secret = w.secret;
    const d = await register("discord", ["download.failed"]);
    const n = await register("ntfy", ["download.failed"]);
    await enqueueNotification(
      db,
      "download.failed",
      { download_id: 42, title: "The Hobbit", reason: "qBittorrent reports error" },
      at("2031-05-06T07:00:00.000Z"),
    );

    const report = await deliverDue(db, config, now);
    expect(report).toMatchObject({ sent: 3, delivered: 3, retrying: 0, gave_up: 0 });
    const [delivery] = await deliveriesOf(w.id);
    expect(receivers.verified).toEqual([
      {
        id: delivery!.messageId,
        valid: true,
        body: {
          type: "download.failed",
          timestamp: "2031-05-06T07:00:00.000Z",
          data: { download_id: 42, title: "The Hobbit", reason: "qBittorrent reports error" },
        },
      },
    ]);
    const webhookCall = receivers.calls.find((c) => c.url.host === "hooks.example.test")!;
    expect(webhookCall.headers.get("webhook-timestamp")).toBe(String(now.getTime() / 1000));
    expect(webhookCall.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const discordCall = receivers.calls.find((c) => c.url.host === "discord.com")!;
    expect(JSON.parse(discordCall.body)).toMatchObject({
      content: "Download failed (will retry): The Hobbit",
      embeds: [{ title: "Download failed (will retry): The Hobbit" }],
    });
    const ntfyCall = receivers.calls.find((c) => c.url.host === "ntfy.example.test")!;
    expect(ntfyCall.body).toContain("reason: qBittorrent reports error");
    expect(ntfyCall.headers.get("Tags")).toBe("download_failed");
    for (const id of [w.id, d.id, n.id]) {
      expect(await deliveriesOf(id)).toEqual([
        expect.objectContaining({ status: "delivered", attempts: 1, lastError: null, deliveredAt: now.toISOString() }),
      ]);
    }
    // Nothing is due any more.
    expect((await deliverDue(db, config, new Date(now.getTime() + 3_600_000))).sent).toBe(0);
  });

  it("Discord's 429 waits its retry_after before the next attempt", async () => {
    const now = at("2031-06-01T00:00:00.000Z");
    fakeReceivers({ discordRateLimited: 1 });
    const d = await register("discord", ["task.failed"]);
    await enqueueNotification(db, "task.failed", { task: "QUEUE" }, now);
    expect(await deliverDue(db, config, now)).toMatchObject({ sent: 1, delivered: 0, retrying: 1 });
    const [row] = await deliveriesOf(d.id);
    expect(row).toMatchObject({ status: "pending", attempts: 1, lastStatus: 429, lastError: "answered HTTP 429 (rate limited)" });
    // 64.57 s asked, above the 5-minute backoff: the backoff wins; a later attempt is due.
    expect(row!.nextAttemptAt).toBe(new Date(now.getTime() + RETRY_BASE_MS).toISOString());
    expect((await deliverDue(db, config, new Date(now.getTime() + 60_000))).sent).toBe(0);
    expect(await deliverDue(db, config, new Date(now.getTime() + RETRY_BASE_MS))).toMatchObject({ sent: 1, delivered: 1 });
  });

  it("a dead endpoint is retried with a doubling delay, then given up after MAX_ATTEMPTS, its error naming no URL", async () => {
    fakeReceivers({ webhookDead: true, secret: () => undefined });
    const w = await register("webhook", ["task.failed"]);
    let now = at("2031-07-01T00:00:00.000Z");
    await enqueueNotification(db, "task.failed", { task: "ACQUIRE" }, now);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const report = await deliverDue(db, config, now);
      expect(report.sent).toBe(1);
      const [row] = await deliveriesOf(w.id);
      expect(row!.attempts).toBe(attempt);
      if (attempt < MAX_ATTEMPTS) {
        expect(row).toMatchObject({ status: "pending", lastError: "could not be reached", lastStatus: null });
        const next = new Date(row!.nextAttemptAt!);
        delays.push((next.getTime() - now.getTime()) / 60_000);
        now = next;
      } else {
        expect(row).toMatchObject({
          status: "failed",
          nextAttemptAt: null,
          lastError: `gave up after ${MAX_ATTEMPTS} attempts: could not be reached`,
        });
        expect(row!.lastError).not.toContain("hooks.example.test");
      }
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320]);
    expect((await deliverDue(db, config, new Date(now.getTime() + 86_400_000))).sent).toBe(0);
  });

  it(`sends at most ${MAX_SENDS_PER_RUN} a run, oldest first; the rest the next run`, async () => {
    const receivers = fakeReceivers();
    const n = await register("ntfy", ["task.failed"]);
    const now = at("2031-08-01T00:00:00.000Z");
    for (let i = 0; i < MAX_SENDS_PER_RUN + 3; i++)
      await enqueueNotification(db, "task.failed", { task: `T${i}` }, new Date(now.getTime() - (100 - i) * 1000));
    expect((await deliverDue(db, config, now)).delivered).toBe(MAX_SENDS_PER_RUN);
    expect(receivers.calls.map((c) => c.headers.get("Title"))).toEqual(
      Array.from({ length: MAX_SENDS_PER_RUN }, (_, i) => `Scheduled task failed: T${i}`),
    );
    expect((await deliverDue(db, config, now)).delivered).toBe(3);
    expect((await deliveriesOf(n.id)).every((d) => d.status === "delivered")).toBe(true);
  });

  it("a disabled endpoint's pending deliveries end unsent", async () => {
    const receivers = fakeReceivers();
    const n = await register("ntfy", ["task.failed"]);
    const now = at("2031-09-01T00:00:00.000Z");
    await enqueueNotification(db, "task.failed", { task: "GAPS" }, now);
    await db.update(notificationEndpoints).set({ enabled: false }).where(eq(notificationEndpoints.id, n.id));
    expect(await deliverDue(db, config, now)).toMatchObject({ sent: 0, gave_up: 1 });
    expect(receivers.calls).toHaveLength(0);
    expect(await deliveriesOf(n.id)).toEqual([
      expect.objectContaining({ status: "failed", attempts: 0, lastError: "not sent: the endpoint is disabled" }),
    ]);
  });
});
