import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { auditLogs, notificationDeliveries, notificationEndpoints } from "../../src/db/schema";
import { enqueueNotification } from "../../src/services/notifications";
import { bearer, createUser, loginAs } from "../fixtures";
import { call, errorShape, withEnv } from "../helpers";
import { DISCORD_URL, fakeReceivers, NTFY_TOKEN, NTFY_URL, WEBHOOK_URL } from "../integrations/fake-notify";

const db = primaryDatabase(env);
const BASE = "/api/admin/notifications";
const send = (method: string, path: string, body?: unknown) =>
  call(`${BASE}${path}`, { method, auth: true, ...(body === undefined ? {} : { json: body }) });
async function data(res: Response, status = 200) {
  expect(res.status).toBe(status);
  return ((await res.json()) as { data: Record<string, any> }).data;
}
const webhook = { name: "Home hook", kind: "webhook", url: WEBHOOK_URL, events: ["download.failed", "task.failed"] };
const discord = { name: "Discord", kind: "discord", url: DISCORD_URL, events: ["download.abandoned"] };
const ntfy = { name: "Phone", kind: "ntfy", url: NTFY_URL, token: NTFY_TOKEN, events: ["task.failed"] };

beforeEach(async () => {
  await db.delete(notificationEndpoints);
});
afterEach(() => vi.restoreAllMocks());

describe("registering endpoints", () => {
  it("a webhook's secret is answered once at creation, and is in no list, log row or D1 column in clear", async () => {
    const { endpoint } = await data(await send("POST", "/endpoints", webhook), 201);
    expect(endpoint).toMatchObject({
      name: "Home hook",
      kind: "webhook",
      url: WEBHOOK_URL,
      events: webhook.events,
      enabled: true,
      has_secret: true,
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const list = await data(await send("GET", "/endpoints"));
    expect(list.total).toBe(1);
    expect(JSON.stringify(list)).not.toContain(endpoint.secret);
    expect(list.endpoints[0]).not.toHaveProperty("secret");
    const row = await db.select().from(notificationEndpoints).where(eq(notificationEndpoints.id, endpoint.id)).get();
    expect(JSON.stringify(row)).not.toContain(endpoint.secret.slice(6));
    expect(row!.urlSealed).not.toContain("hooks.example.test");
    const audit = await db.select().from(auditLogs).where(eq(auditLogs.resource, "notification_endpoint"));
    expect(JSON.stringify(audit)).not.toContain(endpoint.secret.slice(6));
    expect(audit.some((a) => a.action === "create" && a.resourceId === String(endpoint.id))).toBe(true);
  });

  it("a Discord URL's token and an ntfy token are never answered", async () => {
    const d = (await data(await send("POST", "/endpoints", discord), 201)).endpoint;
    expect(d.url).toBe("https://discord.com/api/webhooks/112233445566778899/••••");
    expect(d).not.toHaveProperty("secret");
    const n = (await data(await send("POST", "/endpoints", ntfy), 201)).endpoint;
    expect(n).toMatchObject({ kind: "ntfy", has_secret: true, url: "https://ntfy.example.test/ma••••" });
    const everything = JSON.stringify(await data(await send("GET", "/endpoints")));
    expect(everything).not.toContain("AbCdEf-discord-TOKEN");
    expect(everything).not.toContain(NTFY_TOKEN);
    expect(everything).not.toContain("mam-alerts-7f3a");
  });

  it.each([
    ["not a URL", { ...webhook, url: "hooks example" }, "is not a URL"],
    ["another scheme", { ...webhook, url: "ftp://hooks.example.test/x" }, "must be an http(s) URL"],
    ["credentials in it", { ...webhook, url: "https://user:pw@hooks.example.test/x" }, "must not carry credentials"],
    ["a Discord kind with another URL", { ...discord, url: WEBHOOK_URL }, "must be a Discord webhook URL"],
    ["an ntfy URL without a topic", { ...ntfy, url: "https://ntfy.example.test/" }, "must be an ntfy topic URL"],
    ["an ntfy URL with a query", { ...ntfy, url: `${NTFY_URL}?x=1` }, "must be an ntfy topic URL"],
    ["a token for a webhook", { ...webhook, token: "tk_x" }, "is only for ntfy endpoints"],
    ["an unknown event", { ...webhook, events: ["book.read"] }, ""],
    ["no event", { ...webhook, events: [] }, ""],
  ])("refuses %s with a 422 that does not echo the URL", async (_, body, message) => {
    const res = await send("POST", "/endpoints", body);
    const answer = (await res.json()) as { errors: { message: string }[] };
    expect(res.status).toBe(422);
    expect(answer).toMatchObject(errorShape(422, "validation_error"));
    if (message) expect(answer.errors[0]!.message).toContain(message);
    expect(JSON.stringify(answer)).not.toContain("user:pw");
    expect(await db.select().from(notificationEndpoints)).toHaveLength(0);
  });

  it("production takes https and public hosts only", async () => {
    const prod = withEnv({ ENVIRONMENT: "production" });
    const post = (url: string) => prod(`${BASE}/endpoints`, { method: "POST", auth: true, json: { ...webhook, url } });
    for (const url of [
      "http://hooks.example.test/x",
      "https://127.0.0.1/x",
      "https://192.168.1.20/x",
      "https://[::1]/x",
      "https://nas.local/x",
    ]) {
      expect((await post(url)).status, url).toBe(422);
    }
    expect((await post("https://hooks.example.test/x")).status).toBe(201);
  });

  it("is for admins only", async () => {
    const operator = await createUser("moderator");
    const token = await loginAs(operator);
    const res = await call(`${BASE}/endpoints`, { method: "POST", headers: bearer(token), json: webhook });
    expect(res.status).toBe(403);
  });
});

describe("changing, deleting, testing", () => {
  it("changes events and the ntfy token (never answered), keeps a webhook's secret, deletes with the log", async () => {
    const n = (await data(await send("POST", "/endpoints", { ...ntfy, token: undefined }), 201)).endpoint;
    expect(n.has_secret).toBe(false);
    const changed = (await data(await send("PUT", `/endpoints/${n.id}`, { events: ["task.failed", "download.failed"], token: NTFY_TOKEN })))
      .endpoint;
    expect(changed).toMatchObject({ events: ["task.failed", "download.failed"], has_secret: true });
    const removed = (await data(await send("PUT", `/endpoints/${n.id}`, { token: null, enabled: false }))).endpoint;
    expect(removed).toMatchObject({ has_secret: false, enabled: false });
    expect((await send("PUT", "/endpoints/999999", { enabled: true })).status).toBe(404);

    const w = (await data(await send("POST", "/endpoints", webhook), 201)).endpoint;
    await enqueueNotification(db, "task.failed", { task: "GAPS" });
    expect(await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.endpointId, w.id))).toHaveLength(1);
    const gone = (await data(await send("DELETE", `/endpoints/${w.id}`))).endpoint;
    expect(gone.id).toBe(w.id);
    expect(await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.endpointId, w.id))).toHaveLength(0);
    expect((await send("DELETE", `/endpoints/${w.id}`)).status).toBe(404);
  });

  it("renames an endpoint, and the audit row says the new name", async () => {
    const n = (await data(await send("POST", "/endpoints", ntfy), 201)).endpoint;
    const renamed = (await data(await send("PUT", `/endpoints/${n.id}`, { name: "Old phone" }))).endpoint;
    expect(renamed).toMatchObject({ id: n.id, name: "Old phone", events: ["task.failed"] });
    const updates = (await db.select().from(auditLogs).where(eq(auditLogs.resource, "notification_endpoint"))).filter(
      (row) => row.action === "update" && row.resourceId === String(n.id),
    );
    expect(updates.map((row) => row.details)).toEqual([{ name: "Old phone" }]);
  });

  it("test-sends a signed webhook that the receiver verifies, and says what a dead endpoint answered", async () => {
    let secret: string | undefined;
    const receivers = fakeReceivers({ secret: () => secret });
    const w = (await data(await send("POST", "/endpoints", webhook), 201)).endpoint;
    secret = w.secret;
    const result = await data(await send("POST", `/endpoints/${w.id}/test`));
    expect(result).toMatchObject({ endpoint_id: w.id, delivered: true, status: 204, error: null });
    expect(receivers.verified).toEqual([{ id: result.message_id, body: expect.objectContaining({ type: "test" }), valid: true }]);

    secret = `whsec_${btoa("not the secret, so the signature fails")}`;
    const refused = await data(await send("POST", `/endpoints/${w.id}/test`));
    expect(refused).toMatchObject({ delivered: false, status: 401, error: "answered HTTP 401" });

    vi.restoreAllMocks();
    fakeReceivers({ webhookDead: true });
    const dead = await data(await send("POST", `/endpoints/${w.id}/test`));
    expect(dead).toMatchObject({ delivered: false, status: null, error: "could not be reached" });
    expect((await send("POST", "/endpoints/999999/test")).status).toBe(404);
  });

  it("Discord answers 204 and ntfy 200 to a test", async () => {
    const receivers = fakeReceivers();
    const d = (await data(await send("POST", "/endpoints", discord), 201)).endpoint;
    const n = (await data(await send("POST", "/endpoints", ntfy), 201)).endpoint;
    expect(await data(await send("POST", `/endpoints/${d.id}/test`))).toMatchObject({ delivered: true, status: 204 });
    expect(await data(await send("POST", `/endpoints/${n.id}/test`))).toMatchObject({ delivered: true, status: 200 });
    const [toDiscord, toNtfy] = receivers.calls;
    expect(toDiscord!.url.href).toBe(DISCORD_URL);
    expect(JSON.parse(toDiscord!.body)).toMatchObject({
      content: expect.stringContaining("Test notification"),
      embeds: [expect.any(Object)],
      allowed_mentions: { parse: [] },
    });
    expect(toNtfy!.headers.get("Title")).toBe("Test notification");
    expect(toNtfy!.headers.get("Authorization")).toBe(`Bearer ${NTFY_TOKEN}`);
    expect(toNtfy!.headers.get("Priority")).toBe("2");
  });
});

describe("the delivery log", () => {
  it("lists deliveries newest first, by endpoint and status", async () => {
    const w = (await data(await send("POST", "/endpoints", webhook), 201)).endpoint;
    const n = (await data(await send("POST", "/endpoints", ntfy), 201)).endpoint;
    await enqueueNotification(db, "task.failed", { task: "QUEUE", reason: "qBittorrent did not answer" });
    await enqueueNotification(db, "download.failed", { download_id: 7, title: "Book" });
    const all = await data(await send("GET", "/deliveries"));
    expect(all.total).toBe(3);
    expect(all.deliveries.map((d: { event: string }) => d.event).sort()).toEqual(["download.failed", "task.failed", "task.failed"]);
    const onlyNtfy = await data(await send("GET", `/deliveries?endpoint_id=${n.id}&status=pending`));
    expect(onlyNtfy.deliveries).toEqual([
      expect.objectContaining({
        endpoint_id: n.id,
        event: "task.failed",
        status: "pending",
        attempts: 0,
        message_id: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
      }),
    ]);
    expect((await data(await send("GET", `/deliveries?endpoint_id=${w.id}&status=delivered`))).total).toBe(0);
  });
});
