import { env } from "cloudflare:workers";
import { and, eq, inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { auditLogs, bookRequests, downloads, missingBooks, notificationDeliveries, notificationEndpoints } from "../../src/db/schema";
import { runTask } from "../../src/scheduler/runs";
import { TASKS, type TaskName } from "../../src/scheduler/tasks";
import { bearer, createUser, loginAs, unique } from "../fixtures";
import { countingD1, withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";
import { AUDIBLE_URL, fakeAudible } from "../integrations/fake-audible";
import { WEBHOOK_URL } from "../integrations/fake-notify";
import { fakeMamProwlarr, PROWLARR } from "../integrations/fake-prowlarr";
import { fakeQbittorrent, hashOfUrl, qbKey } from "../integrations/fake-qbittorrent";

/**
 * Issue 26, "Done when": a viewer searches the catalogue, asks for a book, an operator approves,
 * ACQUIRE and QUEUE fetch it, and the next library sync makes the request available, with fake
 * Audible, Prowlarr, qBittorrent and Audiobookshelf answering in the real programs' shapes.
 */

const db = primaryDatabase(env);
const bindings = { ...env, AUDIBLE_URL, ...PROWLARR, ...qbKey, ABS_URL, ABS_TOKEN, REQUESTS_AUTO_APPROVE: "none" } as Env;
const config = parseConfig(bindings);
const api = withEnv(bindings);

async function call(path: string, headers: Record<string, string>, init: { method?: string; json?: unknown } = {}) {
  const res = await api(path, { headers, ...init });
  return { status: res.status, body: (await res.json()) as any };
}

/** Runs one task as the dispatcher would, at a time of its own. */
async function run(name: TaskName) {
  const scheduledTime = new Date(Date.UTC(2041, 0, 1) + Math.floor(Math.random() * 1e12));
  return runTask({ db, env: bindings, config }, TASKS[name], { kind: "cron", scheduledTime, cron: TASKS[name].cron });
}

const requestRow = async (id: number) => (await db.select().from(bookRequests).where(eq(bookRequests.id, id)))[0]!;

beforeEach(async () => {
  // Acquisition looks at every open gap: each test starts with none but its own.
  await db.delete(missingBooks);
});
afterEach(() => vi.restoreAllMocks());

describe("a request from a search to available", () => {
  it("a viewer searches and asks, an operator approves, the loop fetches it, the sync makes it available", async () => {
    const author = "Ilse Marrowgate";
    const title = `${unique("The Salt")} Orchard`.replace(/-/g, " ");
    const asin = `B0${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const operator = bearer(await loginAs(await createUser("moderator")));
    // The household's operator is told of every step on a webhook (src/services/notifications/).
    await db.delete(notificationEndpoints);
    const hook = await api("/api/admin/notifications/endpoints", {
      auth: true,
      method: "POST",
      json: {
        name: "Requests",
        kind: "webhook",
        url: WEBHOOK_URL,
        events: ["request.created", "request.approved", "request.available", "request.denied", "request.failed"],
      },
    });
    expect(hook.status).toBe(201);

    // 1. The viewer searches the catalogue by author and asks for the book.
    fakeAudible([{ asin, title, author }], []);
    const found = await call(`/api/requests/search?q=${encodeURIComponent("marrowgate")}`, viewer);
    expect(found.body.data.results).toEqual([
      expect.objectContaining({ asin, title, authors: [author], in_library: null, request: null, downloading: false, wanted: null }),
    ]);
    const made = await call("/api/requests", viewer, { method: "POST", json: { asin } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.data.id as number;
    expect(made.body.data.status).toBe("pending");

    // 2. An operator approves: the request is a wanted book with its real title and ASIN.
    const approved = await call(`/api/requests/${id}/approve`, operator, { method: "POST", json: { note: "on its way" } });
    expect(approved.body.data).toMatchObject({ status: "approved", missing_book_id: expect.any(Number) });
    const gapId = approved.body.data.missing_book_id as number;
    vi.restoreAllMocks();

    // 3. ACQUIRE searches Prowlarr by title and surname; nothing yet: the request is searching.
    const empty = fakeMamProwlarr([]);
    expect((await run("ACQUIRE")).status).toBe("completed");
    expect(empty.queries).toEqual([`${title} Marrowgate`]);
    expect((await requestRow(id)).status).toBe("searching");
    vi.restoreAllMocks();

    // The next ACQUIRE finds the MyAnonamouse release and queues it: downloading.
    const prowlarr = fakeMamProwlarr([{ title, author }]);
    await run("ACQUIRE");
    const [download] = await db.select().from(downloads).where(eq(downloads.missingBookId, gapId));
    expect(download).toMatchObject({ status: "queued", torrentUrl: expect.stringContaining(`${PROWLARR.PROWLARR_URL}/4/download`) });
    expect((await requestRow(id)).status).toBe("downloading");
    vi.restoreAllMocks();

    // 4. QUEUE sends it to qBittorrent, and a later QUEUE sees it complete.
    const qb = fakeQbittorrent({ style: "5.2" });
    await run("QUEUE");
    const hash = await hashOfUrl(prowlarr.releases[0]!.downloadUrl);
    qb.set(hash, { state: "stalledUP", progress: 1 });
    await run("QUEUE");
    expect((await db.select().from(downloads).where(eq(downloads.id, download!.id)))[0]!.status).toBe("completed");
    expect((await requestRow(id)).status).toBe("downloading");
    vi.restoreAllMocks();

    // 5. Audiobookshelf lists the book (no ASIN: found by its title and author): available.
    fakeAbs([{ id: "lib_books", items: [absItem(unique("li"), { title: `${title}: A Novel`, authorName: author })] }]);
    expect((await run("LIBRARY_SYNC")).status).toBe("completed");
    const mine = await call(`/api/requests/${id}`, viewer);
    expect(mine.body.data).toMatchObject({ status: "available", book_id: expect.any(Number) });
    const [gap] = await db.select().from(missingBooks).where(eq(missingBooks.id, gapId));
    expect(gap).toMatchObject({ bookId: mine.body.data.book_id, downloadStatus: "completed" });

    // Each told once, in order: created, approved, available (searching and downloading are not events).
    const told = await db.select().from(notificationDeliveries).orderBy(notificationDeliveries.id);
    expect(told.map((d) => [d.event, d.payload.data.asin, d.payload.data.request_id])).toEqual([
      ["request.created", asin, id],
      ["request.approved", asin, id],
      ["request.available", asin, id],
    ]);
    expect(told[2]!.payload.data).toMatchObject({ request_id: id, title, status: "available", from: "downloading" });

    // Every change is audited, the loop's by the system.
    const audit = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.resource, "book_request"), eq(auditLogs.resourceId, String(id))))
      .orderBy(auditLogs.id);
    expect(audit.map((row) => [row.action, row.actor])).toEqual([
      ["request.created", expect.stringMatching(/^user:/)],
      ["request.approved", expect.stringMatching(/^user:/)],
      ["request.searching", "system"],
      ["request.downloading", "system"],
      ["request.available", "system"],
    ]);
  });

  it("a request made again for an owned book turns available only with a book added after it", async () => {
    const author = "Ilse Marrowgate";
    const title = `${unique("Bitter")} Lantern`.replace(/-/g, " ");
    const asin = `B0${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
    fakeAudible([{ asin, title, author }], []);
    fakeAbs([{ id: "lib_books", items: [absItem(unique("li"), { title, authorName: author, asin })] }]);
    await run("LIBRARY_SYNC");
    vi.restoreAllMocks();
    fakeAudible([{ asin, title, author }], []);
    const admin = { "X-API-Key": env.API_KEY };
    const made = await call("/api/requests", admin, { method: "POST", json: { asin, again: true, reason: "the old copy skips" } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const approved = await call(`/api/requests/${made.body.data.id}/approve`, admin, { method: "POST", json: {} });
    expect(approved.body.data.status).toBe("approved");
    vi.restoreAllMocks();
    fakeMamProwlarr([]);
    await run("ACQUIRE");
    // The old copy is in the library, but it is not the new one asked for.
    expect((await requestRow(made.body.data.id)).status).toBe("searching");
  });

  it("a request whose download is abandoned fails", async () => {
    const [row] = await db
      .insert(missingBooks)
      .values({ title: unique("Gone"), reasonMissing: "request", asin: "B0ABANDON1" })
      .returning();
    const [dl] = await db
      .insert(downloads)
      .values({ title: row!.title, source: "test", missingBookId: row!.id, status: "abandoned" })
      .returning();
    await db.update(missingBooks).set({ downloadId: dl!.id, downloadStatus: "failed" }).where(eq(missingBooks.id, row!.id));
    const [request] = await db
      .insert(bookRequests)
      .values({ asin: "B0ABANDON1", title: row!.title, requestedBy: "operator", status: "downloading", missingBookId: row!.id })
      .returning();
    // ACQUIRE searches the failed wanted book again; nothing found: the request has failed.
    const prowlarr = fakeMamProwlarr([]);
    await run("ACQUIRE");
    expect(prowlarr.queries).toEqual([row!.title]);
    expect((await requestRow(request!.id)).status).toBe("failed");
    const [audit] = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, "request.failed"), inArray(auditLogs.resourceId, [String(request!.id)])));
    expect(audit?.details).toMatchObject({ from: "downloading", to: "failed" });
  });
});

describe("budgets", () => {
  it("a request approved at once costs one Audible call and at most 50 D1 queries", async () => {
    const asin = `B0${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
    const audible = fakeAudible([{ asin, title: unique("Budget"), author: "Ilse Marrowgate" }], []);
    let queries = 0;
    const counted = withEnv({ ...bindings, REQUESTS_AUTO_APPROVE: "admin", DB: countingD1(() => queries++) });
    const res = await counted("/api/requests", { auth: true, method: "POST", json: { asin } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).data.status).toBe("approved");
    expect(audible.count()).toBe(1);
    expect(queries).toBeLessThanOrEqual(50);
    queries = 0;
    const search = await counted("/api/requests/search?q=Marrowgate", { auth: true });
    expect(search.status).toBe(200);
    expect(audible.count()).toBe(2);
    expect(queries).toBeLessThanOrEqual(50);
  });
});
