import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, DOWNLOAD_STATUSES, downloads, type NewDownload } from "../../src/db/schema";
import { allowedActions } from "../../src/services/download-states";
import { bearer, createBook, createUser, loginAs, unique } from "../fixtures";
import { type CallOptions, errorShape, withEnv } from "../helpers";
import { PROWLARR } from "../integrations/fake-prowlarr";
import { api, ISO } from "../library";

const db = primaryDatabase(env);
type Status = (typeof DOWNLOAD_STATUSES)[number];

const magnet = () => `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "")}`;

/** A download written straight to D1, in any state. */
async function insertDownload(fields: Partial<NewDownload> = {}) {
  const [row] = await db
    .insert(downloads)
    .values({ title: unique("dl"), source: "test", magnetLink: magnet(), ...fields })
    .returning();
  return row!;
}

async function statusOf(id: number) {
  return (await db.select({ status: downloads.status }).from(downloads).where(eq(downloads.id, id)).get())?.status;
}

/** The API with Prowlarr configured: torrent URLs on its origin may be queued. */
const withProwlarr = withEnv(PROWLARR);
async function prowlarrApi(path: string, options: CallOptions = {}) {
  const res = await withProwlarr(path, { auth: true, ...options });
  return { status: res.status, body: (await res.json()) as any };
}
const prowlarrLink = (query = `link=${unique("l")}&file=Book`) => `${PROWLARR.PROWLARR_URL}/4/download?${query}`;

const put = (id: number, action: string, json: unknown = {}) => api(`/api/downloads/${id}/${action}`, { method: "PUT", json });

/** The state machine as specified: from each status, the moves that are allowed. Everything else is 409. */
const ALLOWED: Record<Status, string[]> = {
  queued: [
    "status queued",
    "status downloading",
    "status completed",
    "status failed",
    "status abandoned",
    "mark-complete",
    "mark-failed",
    "retry",
  ],
  downloading: [
    "status queued",
    "status downloading",
    "status completed",
    "status failed",
    "status abandoned",
    "mark-complete",
    "mark-failed",
  ],
  failed: ["status queued", "status failed", "status abandoned", "mark-failed", "retry"],
  completed: ["status completed", "mark-complete", "retry"],
  abandoned: ["status abandoned", "retry"],
};
const MOVES = [...DOWNLOAD_STATUSES.map((s) => `status ${s}`), "mark-complete", "mark-failed", "retry"];
/** Where an allowed move lands (mark-failed from 0 attempts of 3: failed). */
const LANDS: Record<string, Status> = { "mark-complete": "completed", "mark-failed": "failed", retry: "queued" };

function perform(id: number, move: string) {
  if (move.startsWith("status ")) return put(id, "status", { status: move.slice("status ".length) });
  return put(id, move, move === "mark-failed" ? { error_msg: "tracker timeout" } : {});
}

const CASES = DOWNLOAD_STATUSES.flatMap((from) => MOVES.map((move) => ({ from, move, allowed: ALLOWED[from].includes(move) })));

describe("the download state machine", () => {
  it("is the table the code enforces", () => {
    for (const from of DOWNLOAD_STATUSES) expect(allowedActions(from).sort(), from).toEqual([...ALLOWED[from]].sort());
  });

  it.each(CASES.filter((c) => c.allowed))("allows $move from $from", async ({ from, move }) => {
    const row = await insertDownload({ status: from });
    const { status, body } = await perform(row.id, move);
    expect(status, JSON.stringify(body)).toBe(200);
    const to = LANDS[move] ?? (move.slice("status ".length) as Status);
    expect(body.data).toMatchObject({ download_id: row.id, previous_status: from, status: to });
    expect(await statusOf(row.id)).toBe(to);
  });

  it.each(CASES.filter((c) => !c.allowed))("refuses $move from $from with 409 conflict", async ({ from, move }) => {
    const row = await insertDownload({ status: from });
    const { status, body } = await perform(row.id, move);
    expect(status, JSON.stringify(body)).toBe(409);
    expect(body).toMatchObject(errorShape(409, "conflict"));
    expect(body.detail).toContain(`Download ${row.id} is ${from}`);
    expect(body.context).toMatchObject({ download_id: row.id, from, allowed: expect.any(Array) });
    expect(await statusOf(row.id)).toBe(from);
  });

  it("answers 404 for a download that does not exist, whatever the move", async () => {
    for (const move of ["status downloading", "mark-complete", "mark-failed", "retry"]) {
      const { status, body } = await perform(99_999_999, move);
      expect(status, move).toBe(404);
      expect(body).toMatchObject(errorShape(404, "not_found"));
    }
  });
});

describe("POST /api/downloads", () => {
  it("queues a download (201) with every field answered", async () => {
    const link = magnet();
    const title = unique("Dune");
    const { status, body } = await api("/api/downloads", {
      method: "POST",
      json: { title, author: " Frank Herbert ", source: "MAM", magnet_link: link },
    });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body.data).toEqual({
      download_id: body.data.id,
      id: expect.any(Number),
      book_id: null,
      missing_book_id: null,
      title,
      author: "Frank Herbert",
      source: "MAM",
      magnet_link: link,
      torrent_url: null,
      status: "queued",
      qbittorrent_hash: null,
      qbittorrent_status: null,
      retry_count: 0,
      max_retries: 3,
      last_attempt: null,
      next_retry: null,
      abs_import_status: null,
      abs_import_error: null,
      date_queued: ISO,
      date_completed: null,
    });
    const got = await api(`/api/downloads/${body.data.id}`);
    expect(got.status).toBe(200);
    const { download_id: _, ...fields } = body.data;
    expect(got.body.data).toEqual(fields);
  });

  it("needs a magnet link or a torrent URL, and checks both", async () => {
    for (const json of [
      { title: "x", source: "MAM" },
      { title: "x", source: "MAM", magnet_link: null, torrent_url: null },
      { title: "x", source: "MAM", magnet_link: "http://not-a-magnet" },
      { title: "x", source: "MAM", torrent_url: "ftp://example.test/a.torrent" },
      { title: "x", source: "MAM", torrent_url: "not a url" },
      { title: "", source: "MAM", magnet_link: magnet() },
      { title: "x", magnet_link: magnet() },
      { title: "x", source: "MAM", magnet_link: magnet(), extra: 1 },
    ]) {
      const { status, body } = await api("/api/downloads", { method: "POST", json });
      expect(status, JSON.stringify(json)).toBe(422);
      expect(body).toMatchObject(errorShape(422, "validation_error"));
    }
    const missing = await api("/api/downloads", { method: "POST", json: { title: "x", source: "MAM" } });
    expect(missing.body.errors).toContainEqual(
      expect.objectContaining({ path: "body.magnet_link", message: "Either magnet_link or torrent_url is required" }),
    );
  });

  it("accepts a torrent URL alone", async () => {
    const url = prowlarrLink();
    const { status, body } = await prowlarrApi("/api/downloads", {
      method: "POST",
      json: { title: unique("t"), source: "Manual", torrent_url: url },
    });
    expect(status).toBe(201);
    expect(body.data).toMatchObject({ torrent_url: url, magnet_link: null, status: "queued" });
  });

  it("answers 409 duplicate_resource with the existing id while the same magnet or URL is active", async () => {
    const link = magnet();
    const url = prowlarrLink();
    const first = await prowlarrApi("/api/downloads", {
      method: "POST",
      json: { title: unique("a"), source: "MAM", magnet_link: link, torrent_url: url },
    });
    expect(first.status).toBe(201);
    const id = first.body.data.id;

    for (const json of [{ magnet_link: link }, { torrent_url: url }, { magnet_link: magnet(), torrent_url: url }]) {
      const { status, body } = await prowlarrApi("/api/downloads", {
        method: "POST",
        json: { title: unique("b"), source: "MAM", ...json },
      });
      expect(status, JSON.stringify(json)).toBe(409);
      expect(body).toMatchObject(errorShape(409, "duplicate_resource"));
      expect(body.detail).toContain(`download ${id}`);
      expect(body.context).toEqual({ download_id: id, status: "queued" });
    }

    // Still active while failed (waiting for its retry) ...
    expect((await put(id, "mark-failed", { error_msg: "x" })).status).toBe(200);
    expect((await api("/api/downloads", { method: "POST", json: { title: "c", source: "MAM", magnet_link: link } })).status).toBe(409);
    // ... no longer once abandoned: the same magnet can be queued again.
    await db.update(downloads).set({ status: "abandoned" }).where(eq(downloads.id, id));
    const again = await api("/api/downloads", { method: "POST", json: { title: "c", source: "MAM", magnet_link: link } });
    expect(again.status).toBe(201);
    expect(again.body.data.id).not.toBe(id);
  });

  it("lets only one of two concurrent identical requests through", async () => {
    const json = { title: unique("race"), source: "MAM", magnet_link: magnet() };
    const results = await Promise.all([1, 2, 3].map(() => api("/api/downloads", { method: "POST", json })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
  });

  it("refuses an unknown book_id or missing_book_id with 422, naming the field", async () => {
    for (const field of ["book_id", "missing_book_id"]) {
      const { status, body } = await api("/api/downloads", {
        method: "POST",
        json: { title: "x", source: "MAM", magnet_link: magnet(), [field]: 99_999_999 },
      });
      expect(status).toBe(422);
      expect(body.errors).toEqual([expect.objectContaining({ path: `body.${field}` })]);
    }
  });

  it("links an existing book", async () => {
    const [book] = await db
      .insert(books)
      .values({ title: unique("book") })
      .returning({ id: books.id });
    const { status, body } = await api("/api/downloads", {
      method: "POST",
      json: { title: "x", source: "MAM", magnet_link: magnet(), book_id: book!.id },
    });
    expect(status).toBe(201);
    expect(body.data.book_id).toBe(book!.id);
  });
});

describe("the download queue, read", () => {
  it("lists newest first, filters by status (or the original's status_filter), and pages", async () => {
    const a = await insertDownload({ status: "downloading", dateQueued: "2031-01-01T00:00:01.000Z" });
    const b = await insertDownload({ status: "downloading", dateQueued: "2031-01-01T00:00:02.000Z" });
    const { status, body } = await api("/api/downloads?status=downloading&limit=500");
    expect(status).toBe(200);
    expect(body.data).toEqual({
      downloads: expect.any(Array),
      total: expect.any(Number),
      page_info: { limit: 500, offset: 0, has_more: false },
    });
    expect(body.data.downloads.every((d: { status: string }) => d.status === "downloading")).toBe(true);
    const ids = body.data.downloads.map((d: { id: number }) => d.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    expect(ids.indexOf(a.id)).toBeGreaterThanOrEqual(0);

    const legacy = await api("/api/downloads?status_filter=downloading&limit=1");
    expect(legacy.body.data.downloads).toHaveLength(1);
    expect(legacy.body.data.page_info.has_more).toBe(legacy.body.data.total > 1);

    for (const query of ["status=nope", "status=queued&status_filter=queued", "limit=0", "limit=501", "offset=-1"]) {
      const res = await api(`/api/downloads?${query}`);
      expect(res.status, query).toBe(422);
    }
  });

  it("answers 404 for an unknown id and 422 for a malformed one", async () => {
    expect((await api("/api/downloads/99999999")).body).toMatchObject(errorShape(404, "not_found"));
    expect((await api("/api/downloads/abc")).status).toBe(422);
  });

  it("serves /pending, /failed and /retry-due (not shadowed by /:id), each in its order", async () => {
    const early = await insertDownload({ dateQueued: "2001-01-01T00:00:01.000Z" });
    const late = await insertDownload({ dateQueued: "2001-01-01T00:00:02.000Z" });
    // Dates far from any other test's rows, so these come first in each list's order.
    const failedOld = await insertDownload({ status: "failed", lastAttempt: "2999-01-01T00:00:01.000Z" });
    const abandonedNew = await insertDownload({ status: "abandoned", lastAttempt: "2999-01-01T00:00:02.000Z" });
    const dueFirst = await insertDownload({ nextRetry: "2001-01-01T00:00:01.000Z" });
    const dueSecond = await insertDownload({ nextRetry: "2001-01-01T00:00:02.000Z" });
    const notDue = await insertDownload({ nextRetry: "2999-01-01T00:00:00.000Z" });
    const ids = async (path: string) => {
      const { status, body } = await api(`${path}?limit=500`);
      expect(status, path).toBe(200);
      expect(body.data).toMatchObject({ total: expect.any(Number), page_info: expect.any(Object) });
      return body.data.downloads.map((d: { id: number }) => d.id) as number[];
    };

    const pending = await ids("/api/downloads/pending");
    expect(pending.indexOf(early.id)).toBeGreaterThanOrEqual(0);
    expect(pending.indexOf(early.id)).toBeLessThan(pending.indexOf(late.id));
    expect(pending).not.toContain(failedOld.id);

    const failed = await ids("/api/downloads/failed");
    expect(failed.indexOf(abandonedNew.id)).toBeGreaterThanOrEqual(0);
    expect(failed.indexOf(abandonedNew.id)).toBeLessThan(failed.indexOf(failedOld.id));
    expect(failed).not.toContain(early.id);

    const due = await ids("/api/downloads/retry-due");
    expect(due.indexOf(dueFirst.id)).toBeGreaterThanOrEqual(0);
    expect(due.indexOf(dueFirst.id)).toBeLessThan(due.indexOf(dueSecond.id));
    expect(due).not.toContain(notDue.id);
    expect(due).not.toContain(early.id);
  });
});

describe("mark-failed, retry, mark-complete, status", () => {
  it("counts attempts itself (ignoring the caller's number) and abandons at max_retries", async () => {
    const row = await insertDownload();
    const first = await put(row.id, "mark-failed", { error_msg: "no seeders", retry_attempt: 7 });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      status: "failed",
      retry_count: 1,
      max_retries: 3,
      error: "no seeders",
      abs_import_error: "no seeders",
      last_attempt: ISO,
    });
    const second = await put(row.id, "mark-failed", { error_msg: "no seeders" });
    expect(second.body.data).toMatchObject({ status: "failed", retry_count: 2 });
    const third = await put(row.id, "mark-failed", { error_msg: "still none" });
    expect(third.body.data).toMatchObject({
      previous_status: "failed",
      status: "abandoned",
      retry_count: 3,
      error: "Max retries exceeded: still none",
    });
    // Abandoned: failing it again is refused.
    expect((await put(row.id, "mark-failed", { error_msg: "x" })).status).toBe(409);
    expect((await put(row.id, "mark-failed", {})).status).toBe(422);
  });

  it("counts concurrent failure reports each once", async () => {
    const row = await insertDownload({ maxRetries: 20 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => put(row.id, "mark-failed", { error_msg: "x" })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect((await api(`/api/downloads/${row.id}`)).body.data.retry_count).toBe(10);
  });

  it("abandons exactly once under concurrent failure reports, refusing the reports after it", async () => {
    const row = await insertDownload({ maxRetries: 3 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => put(row.id, "mark-failed", { error_msg: "x" })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(3);
    expect((await api(`/api/downloads/${row.id}`)).body.data).toMatchObject({ retry_count: 3, status: "abandoned" });
  });

  it("re-queues with next_retry in days_until_retry days; a failed download keeps its count, an abandoned one starts over", async () => {
    const failed = await insertDownload({ status: "failed", retryCount: 2 });
    const before = Date.now();
    const retried = await put(failed.id, "retry", { days_until_retry: 3 });
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ status: "queued", retry_count: 2, days_until_retry: 3, next_retry: ISO });
    const delay = Date.parse(retried.body.data.next_retry) - before;
    expect(delay).toBeGreaterThan(3 * 86_400_000 - 60_000);
    expect(delay).toBeLessThan(3 * 86_400_000 + 60_000);

    const abandoned = await insertDownload({ status: "abandoned", retryCount: 3 });
    const revived = await put(abandoned.id, "retry");
    expect(revived.body.data).toMatchObject({ status: "queued", retry_count: 0, days_until_retry: 1 });

    const completed = await insertDownload({ status: "completed", dateCompleted: "2030-01-01T00:00:00.000Z", absImportStatus: "imported" });
    const again = await put(completed.id, "retry");
    expect(again.body.data).toMatchObject({ status: "queued", date_completed: null, abs_import_status: null });

    for (const days of [-1, 31, 1.5, "2"])
      expect((await put(failed.id, "retry", { days_until_retry: days })).status, String(days)).toBe(422);
  });

  it("retries now with days_until_retry 0 (due at the next QUEUE run), and clears the old error", async () => {
    const failed = await insertDownload({ status: "failed", retryCount: 1, absImportError: "no seeders" });
    const before = Date.now();
    const now = await put(failed.id, "retry", { days_until_retry: 0 });
    expect(now.status).toBe(200);
    expect(now.body.data).toMatchObject({ status: "queued", days_until_retry: 0, abs_import_error: null, retry_count: 1 });
    expect(Math.abs(Date.parse(now.body.data.next_retry) - before)).toBeLessThan(60_000);
    const due = await api("/api/downloads/retry-due?limit=500");
    expect(due.body.data.downloads.map((d: { id: number }) => d.id)).toContain(failed.id);
  });

  it("lists one book's downloads with book_id", async () => {
    const book = await createBook();
    const mine = await insertDownload({ bookId: book.book_id });
    await insertDownload({});
    const { status, body } = await api(`/api/downloads?book_id=${book.book_id}`);
    expect(status).toBe(200);
    expect(body.data.downloads.map((d: { id: number }) => d.id)).toEqual([mine.id]);
    expect(body.data.total).toBe(1);
    expect((await api("/api/downloads?book_id=abc")).status).toBe(422);
  });

  it("marks complete with the import status, and again to record the import", async () => {
    const row = await insertDownload({ status: "downloading" });
    const done = await put(row.id, "mark-complete");
    expect(done.body.data).toMatchObject({
      status: "completed",
      abs_import_status: "pending",
      qbittorrent_status: "completed",
      date_completed: ISO,
    });
    const imported = await put(row.id, "mark-complete", { abs_import_status: "imported" });
    expect(imported.body.data).toMatchObject({
      status: "completed",
      abs_import_status: "imported",
      date_completed: done.body.data.date_completed,
    });
    expect((await put(row.id, "mark-complete", { abs_import_status: "done" })).status).toBe(422);
  });

  it("sets a status with the qBittorrent fields", async () => {
    const row = await insertDownload();
    const res = await put(row.id, "status", { status: "downloading", qb_hash: "abc123", qb_status: "stalledDL" });
    expect(res.body.data).toMatchObject({
      status: "downloading",
      qbittorrent_hash: "abc123",
      qbittorrent_status: "stalledDL",
      last_attempt: ISO,
    });
    const done = await put(row.id, "status", { status: "completed" });
    expect(done.body.data).toMatchObject({ status: "completed", date_completed: ISO, qbittorrent_hash: "abc123" });
    for (const json of [{}, { status: "paused" }, { status: "queued", extra: 1 }])
      expect((await put(row.id, "status", json)).status).toBe(422);
  });
});

describe("DELETE /api/downloads/:id", () => {
  it("removes the download, then answers 404", async () => {
    const row = await insertDownload();
    const res = await api(`/api/downloads/${row.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ download_id: row.id, message: `Download '${row.title}' removed from queue` });
    expect((await api(`/api/downloads/${row.id}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("access and the download tier", () => {
  it("lets viewers read and refuses them the writes", async () => {
    const token = await loginAs(await createUser("viewer"));
    const row = await insertDownload();
    expect((await api(`/api/downloads/${row.id}`, { auth: false, headers: bearer(token) })).status).toBe(200);
    const writes: [string, string, unknown][] = [
      ["POST", "/api/downloads", { title: "x", source: "MAM", magnet_link: magnet() }],
      ["PUT", `/api/downloads/${row.id}/status`, { status: "downloading" }],
      ["PUT", `/api/downloads/${row.id}/retry`, {}],
      ["DELETE", `/api/downloads/${row.id}`, undefined],
    ];
    for (const [method, path, json] of writes) {
      const res = await api(path, { method, json, auth: false, headers: bearer(token) });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await api("/api/downloads", { auth: false })).status).toBe(401);
  });

  it("puts queue changes on the download tier: 20 an hour per client", async () => {
    // A fresh operator key: its own client, so no other test's requests count against it.
    const created = await api("/api/admin/api-keys", { method: "POST", json: { name: unique("dl-key"), role: "operator" } });
    expect(created.status).toBe(201);
    const headers = { "X-API-Key": created.body.data.api_key.key };
    const limited = withEnv({ RATE_LIMITS: "" });
    for (let i = 0; i < 20; i++) {
      const res = await limited("/api/downloads", { method: "POST", headers, json: {} });
      expect(res.status).toBe(422);
      expect(res.headers.get("RateLimit-Policy")).toBe('"download";q=20;w=3600');
    }
    const refused = await limited("/api/downloads/1/retry", { method: "PUT", headers, json: {} });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject(errorShape(429, "rate_limit_exceeded"));
    // Reads are on the authenticated tier.
    const read = await limited("/api/downloads/pending", { headers });
    expect(read.status).toBe(200);
    expect(read.headers.get("RateLimit-Policy")).toBe('"authenticated";q=60;w=60');
  });
});

describe("links are secrets and targets (README, Security notes)", () => {
  const KEY = PROWLARR.PROWLARR_API_KEY;
  const PASSKEY = "0123456789abcdef0123456789abcdef";

  it("refuses with 422 every link qBittorrent must not fetch, and stores nothing", async () => {
    const hostile = [
      { torrent_url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/" },
      { torrent_url: "http://127.0.0.1:8080/api/v2/app/shutdown" },
      { torrent_url: "https://tracker.example.test/download.php?id=1" },
      { torrent_url: `http://user:pw@${new URL(PROWLARR.PROWLARR_URL).host}/4/download?link=x` },
      { torrent_url: "file:///etc/passwd" },
      { torrent_url: "javascript:alert(1)" },
      { torrent_url: "data:application/x-bittorrent;base64,ZDg6YW5ub3VuY2U=" },
      { magnet_link: "javascript:alert(1)//magnet:?xt=urn:btih:x" },
    ];
    for (const link of hostile) {
      const title = unique("hostile");
      const { status, body } = await prowlarrApi("/api/downloads", { method: "POST", json: { title, source: "MAM", ...link } });
      expect(status, JSON.stringify(link)).toBe(422);
      expect(body).toMatchObject(errorShape(422, "validation_error"));
      expect(JSON.stringify(body)).not.toContain("169.254");
      expect(await db.select().from(downloads).where(eq(downloads.title, title))).toEqual([]);
    }
    // Without Prowlarr configured no http(s) link is allowed at all.
    const { status } = await api("/api/downloads", { method: "POST", json: { title: "x", source: "MAM", torrent_url: prowlarrLink() } });
    expect(status).toBe(422);
  });

  it("stores and answers Prowlarr's download link without its key", async () => {
    const link = prowlarrLink(`apikey=${KEY}&link=${unique("enc")}&file=Dune`);
    const { status, body } = await prowlarrApi("/api/downloads", {
      method: "POST",
      json: { title: unique("Dune"), source: "MAM", torrent_url: link },
    });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body.data.torrent_url).toBe(link.replace(`apikey=${KEY}&`, ""));
    const row = await db.select().from(downloads).where(eq(downloads.id, body.data.id)).get();
    expect(row!.torrentUrl).not.toContain(KEY);
  });

  it("never answers a stored key or passkey, to any caller", async () => {
    // Rows stored before the rule: Prowlarr's key in a link, a private tracker's passkey in a magnet.
    const withKey = await insertDownload({ magnetLink: null, torrentUrl: prowlarrLink(`apikey=${KEY}&link=old&file=Old`) });
    const hash = "c".repeat(40);
    const tracker = encodeURIComponent(`https://t.myanonamouse.net/tracker.php/${PASSKEY}/announce?passkey=${PASSKEY}`);
    const withPasskey = await insertDownload({ magnetLink: `magnet:?xt=urn:btih:${hash}&dn=Old+Book&tr=${tracker}&xs=${tracker}` });
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const answers = [
      await api(`/api/downloads/${withKey.id}`, { auth: false, headers: viewer }),
      await api(`/api/downloads/${withPasskey.id}`, { auth: false, headers: viewer }),
      await api("/api/downloads?limit=100", { auth: false, headers: viewer }),
      await api("/api/downloads/pending?limit=100"),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain(KEY);
      expect(JSON.stringify(answer.body)).not.toContain(PASSKEY);
    }
    expect(answers[0]!.body.data.torrent_url).toBe(prowlarrLink("link=old&file=Old"));
    expect(answers[1]!.body.data.magnet_link).toBe(`magnet:?xt=urn:btih:${hash}&dn=Old%20Book`);
  });
});
