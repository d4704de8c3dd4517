import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { authors, missingBooks } from "../../src/db/schema";
import { bearer, createBook, createSeries, createUser, loginAs, unique } from "../fixtures";
import { errorShape } from "../helpers";
import { api, ISO, insertBooks } from "../library";

const db = primaryDatabase(env);
const magnet = () => `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "")}`;

/** A series with a total, and active books at the given series_numbers (through the API). */
async function seriesWith(total: number | null, numbers: string[], fields: Record<string, unknown> = {}) {
  const name = (fields.name as string | undefined) ?? unique("Saga");
  const created = await createSeries({ name, total_books_in_series: total, ...fields });
  const bookIds: Record<string, number> = {};
  for (const n of numbers) bookIds[n] = (await createBook({ series: name, series_number: n })).book_id;
  return { id: created.series_id, name, bookIds };
}

async function analyze() {
  const { status, body } = await api("/api/gaps/analyze", { method: "POST" });
  expect(status, JSON.stringify(body)).toBe(200);
  return body.data;
}

/** The gaps of one series, by position. */
async function gapsOf(seriesId: number) {
  const { status, body } = await api(`/api/gaps/missing?series_id=${seriesId}&limit=500`);
  expect(status).toBe(200);
  return [...body.data.missing_books].sort((a, b) => Number(a.series_number) - Number(b.series_number));
}

const positions = (gaps: { series_number: string }[]) => gaps.map((g) => g.series_number);
const put = (id: number, action: string, json: unknown = {}) => api(`/api/downloads/${id}/${action}`, { method: "PUT", json });

describe("gap analysis", () => {
  it("is recorded as a manual GAPS run by its caller, shown as the task's last run", async () => {
    const run = await analyze();
    const { body } = await api("/api/scheduler/tasks");
    const gapsTask = body.data.tasks.find((task: { task_name: string }) => task.task_name === "GAPS");
    expect(gapsTask.last_run).toMatchObject({
      status: "completed",
      task_metadata: { trigger: "manual", triggered_by: "operator", gap_run_id: run.run_id, gaps_found: run.stats.gaps_found },
    });
  });

  it("finds exactly the unheld positions, adds nothing on a second run, and resolves a gap that a new book fills", async () => {
    const saga = await seriesWith(5, ["1", "2", "4"], { author: "Ann Author" });

    const run = await analyze();
    expect(run).toMatchObject({
      run_id: run.id,
      status: "completed",
      started_at: ISO,
      finished_at: ISO,
      error_message: null,
      message: expect.any(String),
    });
    expect(run.stats).toMatchObject({
      series_analyzed: expect.any(Number),
      gaps_found: expect.any(Number),
      open_series_gaps: expect.any(Number),
    });
    const gaps = await gapsOf(saga.id);
    expect(positions(gaps)).toEqual(["3", "5"]);
    expect(gaps[0]).toEqual({
      id: expect.any(Number),
      title: `${saga.name} #3`,
      reason_missing: "series_gap",
      series_id: saga.id,
      series_name: saga.name,
      series_number: "3",
      author_id: null,
      author_name: "Ann Author",
      priority: 2,
      download_status: "identified",
      download_id: null,
      book_id: null,
      resolved: false,
      isbn: null,
      asin: null,
      hardcover_id: null,
      goodreads_id: null,
      identified_date: ISO,
      // No catalogue knows this series: the gap is titled by its place.
      title_source: "library",
      title_checked_at: ISO,
      release_date: null,
    });
    // priority by position: first third 1, middle 2, last 3
    expect(gaps.map((g) => g.priority)).toEqual([2, 3]);

    const second = await analyze();
    expect(second.gaps_found).toBe(0);
    expect(second.stats.gaps_found).toBe(0);
    expect(await gapsOf(saga.id)).toEqual(gaps);

    const { book_id } = await createBook({ series: saga.name, series_number: "3" });
    const third = await analyze();
    expect(third.gaps_resolved).toBeGreaterThanOrEqual(1);
    const after = await gapsOf(saga.id);
    expect(after.map((g) => [g.id, g.series_number, g.resolved, g.book_id, g.download_status])).toEqual([
      [gaps[0].id, "3", true, book_id, "completed"],
      [gaps[1].id, "5", false, null, "identified"],
    ]);
    expect(positions((await api(`/api/gaps/missing?series_id=${saga.id}&resolved=false`)).body.data.missing_books)).toEqual(["5"]);
  });

  it("reopens a resolved gap when its book is archived", async () => {
    const saga = await seriesWith(2, ["1", "2"]);
    await analyze();
    expect(await gapsOf(saga.id)).toEqual([]);
    await db.insert(missingBooks).values({
      seriesId: saga.id,
      seriesName: saga.name,
      seriesNumber: "2",
      title: "x",
      reasonMissing: "series_gap",
      bookId: saga.bookIds["2"],
      downloadStatus: "completed",
    });
    expect((await api(`/api/books/${saga.bookIds["2"]}`, { method: "DELETE" })).status).toBe(200);
    await analyze();
    const [gap] = await gapsOf(saga.id);
    expect(gap).toMatchObject({ series_number: "2", resolved: false, book_id: null, download_status: "identified" });
  });

  it("reads positions as whole numbers, matches the series name case-insensitively, and counts only active books", async () => {
    const saga = await seriesWith(6, ["03", "4.0", "2.5", "III", " 6 "]);
    await insertBooks(1, { series: saga.name.toUpperCase(), seriesNumber: "1" });
    await insertBooks(1, { series: saga.name, seriesNumber: "5", status: "archived" });
    await analyze();
    expect(positions(await gapsOf(saga.id))).toEqual(["2", "5"]);
  });

  it("gives a series without a known total its internal gaps only, and drops untouched gaps past a lowered total", async () => {
    const unknown = await seriesWith(null, ["2", "5"]);
    const lowered = await seriesWith(4, ["1"]);
    await analyze();
    // Owning 2 and 5 means 1, 3 and 4 are missing; nothing is guessed after 5.
    expect(positions(await gapsOf(unknown.id))).toEqual(["1", "3", "4"]);
    expect(positions(await gapsOf(lowered.id))).toEqual(["2", "3", "4"]);

    const gap3 = (await gapsOf(lowered.id))[1];
    const queued = await api("/api/downloads", {
      method: "POST",
      json: { title: "x", source: "MAM", magnet_link: magnet(), missing_book_id: gap3.id },
    });
    expect(queued.status).toBe(201);
    expect((await api(`/api/series/${lowered.id}`, { method: "PUT", json: { total_books_in_series: 2 } })).status).toBe(200);
    const run = await analyze();
    expect(run.stats.gaps_removed).toBeGreaterThanOrEqual(1);
    // 4 had nothing going on and is gone; 3 has a download and stays.
    expect(positions(await gapsOf(lowered.id))).toEqual(["2", "3"]);
  });

  it("titles an unnamed position within 500 characters, however long the series' name", async () => {
    // The longest name a series may have (a book's series, 500 characters), with its 10th book missing.
    const name = `${unique("Saga")} ${"x".repeat(500)}`.slice(0, 500);
    const saga = await seriesWith(10, ["1", "2", "3", "4", "5", "6", "7", "8", "9"], { name });
    await analyze();
    const [gap] = await gapsOf(saga.id);
    expect(gap.series_number).toBe("10");
    expect(gap.title).toHaveLength(500);
    expect(gap.title).toBe(`${name.slice(0, 496)} #10`);
  });

  it("links a series gap to the series' author, and records each author's missing count", async () => {
    const name = unique("Author");
    // Written directly with stale counts: the analysis recomputes them.
    const [author] = await db.insert(authors).values({ name, totalAudiobooksExternal: 4 }).returning();
    await insertBooks(1, { author: name });
    const saga = await seriesWith(2, ["1"], { author: name.toLowerCase() });

    const run = await analyze();
    expect(run.stats.authors_with_gaps).toBeGreaterThanOrEqual(1);
    expect(run.stats.author_books_missing).toBeGreaterThanOrEqual(3);
    const stored = await db.select().from(authors).where(eq(authors.id, author!.id)).get();
    expect(stored).toMatchObject({ audiobooksOwned: 1, audiobooksMissing: 3, completionStatus: "incomplete" });

    const [gap] = await gapsOf(saga.id);
    expect(gap).toMatchObject({ series_number: "2", author_id: author!.id });
    const byAuthor = await api(`/api/gaps/missing?author_id=${author!.id}`);
    expect(byAuthor.body.data.missing_books.map((g: { id: number }) => g.id)).toEqual([gap.id]);
    const byName = await api(`/api/gaps/missing?author=${encodeURIComponent(name.toUpperCase())}`);
    expect(byName.body.data.missing_books.map((g: { id: number }) => g.id)).toEqual([gap.id]);
  });
});

describe("gap priority", () => {
  it("is 1 for the first positions of a series, then 2, then 3, by thirds of its total", async () => {
    const cases: [number, number[]][] = [
      [1, [1]],
      [2, [1, 2]],
      [3, [1, 2, 3]],
      [10, [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]],
    ];
    const sagas = await Promise.all(cases.map(([total]) => seriesWith(total, [])));
    await analyze();
    for (const [i, [total, expected]] of cases.entries()) {
      const gaps = await gapsOf(sagas[i]!.id);
      expect(positions(gaps), `total ${total}`).toEqual(expected.map((_, n) => String(n + 1)));
      expect(
        gaps.map((g) => g.priority),
        `total ${total}`,
      ).toEqual(expected);
    }
  });
});

describe("GET /api/gaps/missing", () => {
  it("has no more after a page that ends exactly at the total, and more after one that ends short of it", async () => {
    const saga = await seriesWith(4, []);
    await analyze();
    const pageInfo = async (query: string) => {
      const { body } = await api(`/api/gaps/missing?series_id=${saga.id}&${query}`);
      expect(body.data.total).toBe(4);
      return body.data.page_info;
    };
    expect(await pageInfo("limit=2&offset=2")).toEqual({ limit: 2, offset: 2, has_more: false });
    expect(await pageInfo("limit=4")).toEqual({ limit: 4, offset: 0, has_more: false });
    expect(await pageInfo("limit=3")).toEqual({ limit: 3, offset: 0, has_more: true });
    expect(await pageInfo("limit=3&offset=1")).toEqual({ limit: 3, offset: 1, has_more: false });
  });

  it("filters by series name, status, reason and resolved, and pages", async () => {
    const saga = await seriesWith(4, []);
    await analyze();
    const byName = await api(`/api/gaps/missing?series=${encodeURIComponent(saga.name.toUpperCase())}&limit=2`);
    expect(byName.status).toBe(200);
    expect(byName.body.data).toMatchObject({ total: 4, page_info: { limit: 2, offset: 0, has_more: true } });
    expect(positions(byName.body.data.missing_books)).toEqual(["1", "2"]);
    const next = await api(`/api/gaps/missing?series=${encodeURIComponent(saga.name)}&limit=2&offset=2`);
    expect(positions(next.body.data.missing_books)).toEqual(["3", "4"]);

    const filtered = await api(`/api/gaps/missing?series_id=${saga.id}&status=identified&reason=series_gap&resolved=false`);
    expect(filtered.body.data.total).toBe(4);
    expect((await api(`/api/gaps/missing?series_id=${saga.id}&status=queued`)).body.data.total).toBe(0);

    for (const query of ["status=lost", "reason=other", "resolved=yes", "series_id=abc", "limit=0"]) {
      const res = await api(`/api/gaps/missing?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body).toMatchObject(errorShape(422, "validation_error"));
    }
  });
});

describe("report, history and reset-state", () => {
  it("serves the last run and the runs, and forgets them on reset", async () => {
    const reset = await api("/api/gaps/reset-state", { method: "DELETE" });
    expect(reset.status).toBe(200);
    expect(reset.body.data).toEqual({ deleted_runs: expect.any(Number), message: expect.any(String) });
    const none = await api("/api/gaps/report");
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject(errorShape(404, "not_found"));
    expect((await api("/api/gaps/history")).body.data).toEqual({
      runs: [],
      total: 0,
      page_info: { limit: 100, offset: 0, has_more: false },
    });

    const first = await analyze();
    const second = await analyze();
    const report = await api("/api/gaps/report");
    expect(report.status).toBe(200);
    const { run_id: _, message: __, ...run } = second;
    expect(report.body.data).toEqual(run);
    expect(report.body.data).toMatchObject({ duration_seconds: expect.any(Number), series_analyzed: expect.any(Number) });

    const history = await api("/api/gaps/history?limit=1");
    expect(history.body.data).toMatchObject({ total: 2, page_info: { limit: 1, offset: 0, has_more: true } });
    expect(history.body.data.runs.map((r: { id: number }) => r.id)).toEqual([second.id]);
    expect((await api("/api/gaps/history?offset=1")).body.data.runs.map((r: { id: number }) => r.id)).toEqual([first.id]);
  });
});

describe("a gap and its downloads", () => {
  it("is queued by a download that names it, and follows that download to completion", async () => {
    const saga = await seriesWith(1, []);
    await analyze();
    const [gap] = await gapsOf(saga.id);
    const created = await api("/api/downloads", {
      method: "POST",
      json: { title: gap.title, source: "MAM", magnet_link: magnet(), missing_book_id: gap.id },
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id;
    expect(created.body.data.missing_book_id).toBe(gap.id);
    const state = async () => (await gapsOf(saga.id))[0];
    expect(await state()).toMatchObject({ download_status: "queued", download_id: id });

    await put(id, "status", { status: "downloading" });
    expect((await state()).download_status).toBe("downloading");
    await put(id, "mark-failed", { error_msg: "stalled" });
    expect((await state()).download_status).toBe("failed");
    await put(id, "retry");
    expect((await state()).download_status).toBe("queued");
    for (let i = 0; i < 3; i++) await put(id, "mark-failed", { error_msg: "stalled" });
    expect((await api(`/api/downloads/${id}`)).body.data.status).toBe("abandoned");
    expect((await state()).download_status).toBe("failed");
    await put(id, "retry");
    await put(id, "mark-complete");
    expect(await state()).toMatchObject({ download_status: "completed", download_id: id });

    // The queue record can go; the gap stays completed.
    expect((await api(`/api/downloads/${id}`, { method: "DELETE" })).status).toBe(200);
    expect(await state()).toMatchObject({ download_status: "completed", download_id: null });
  });

  it("goes back to identified when its only download is deleted, and refuses a download once resolved", async () => {
    const saga = await seriesWith(2, ["1"]);
    await analyze();
    const [gap] = await gapsOf(saga.id);
    const created = await api("/api/downloads", {
      method: "POST",
      json: { title: "x", source: "MAM", magnet_link: magnet(), missing_book_id: gap.id },
    });
    expect((await gapsOf(saga.id))[0].download_status).toBe("queued");
    await api(`/api/downloads/${created.body.data.id}`, { method: "DELETE" });
    expect((await gapsOf(saga.id))[0]).toMatchObject({ download_status: "identified", download_id: null });

    await createBook({ series: saga.name, series_number: "2" });
    await analyze();
    const refused = await api("/api/downloads", {
      method: "POST",
      json: { title: "x", source: "MAM", magnet_link: magnet(), missing_book_id: gap.id },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject(errorShape(409, "conflict"));
  });
});

describe("access", () => {
  it("lets viewers read gaps and keeps the analysis and the reset for operators", async () => {
    const headers = bearer(await loginAs(await createUser("viewer")));
    for (const path of ["/api/gaps/missing", "/api/gaps/history"])
      expect((await api(path, { auth: false, headers })).status, path).toBe(200);
    expect((await api("/api/gaps/analyze", { method: "POST", auth: false, headers })).status).toBe(403);
    expect((await api("/api/gaps/reset-state", { method: "DELETE", auth: false, headers })).status).toBe(403);
    expect((await api("/api/gaps/analyze", { method: "GET" })).status).toBe(405);
  });
});
