import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { downloads, failedAttempts, type NewDownload } from "../../src/db/schema";
import { createAuthor, createSeries, unique } from "../fixtures";
import { call, errorShape, withEnv } from "../helpers";
import { api, insertBooks } from "../library";

const db = primaryDatabase(env);
const ROUTES = ["stats", "library-status", "download-stats", "storage", "configuration"];

async function data(path: string) {
  const { status, body } = await api(path);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ success: true, error: null });
  return body.data;
}

async function insertDownloads(rows: Partial<NewDownload>[]) {
  await db
    .insert(downloads)
    .values(rows.map((row) => ({ title: unique("dl"), source: "test", magnetLink: "magnet:?xt=urn:btih:0", ...row })));
}

const past = new Date(Date.now() - 3_600_000).toISOString();
const future = new Date(Date.now() + 86_400_000).toISOString();

describe("GET /api/system/stats", () => {
  it("answers catalogue, queue and failure counts that move by exactly what was added", async () => {
    const before = await data("/api/system/stats");
    expect(before).toEqual({
      books: {
        total_active: expect.any(Number),
        archived: expect.any(Number),
        duplicates: expect.any(Number),
        grand_total: expect.any(Number),
      },
      series: { total: expect.any(Number) },
      authors: { total: expect.any(Number) },
      downloads: {
        total: expect.any(Number),
        queued: expect.any(Number),
        downloading: expect.any(Number),
        completed: expect.any(Number),
        failed: expect.any(Number),
      },
      failed_attempts: { total: expect.any(Number) },
    });
    await insertBooks(3);
    await insertBooks(2, { status: "archived" });
    await insertBooks(1, { status: "duplicate" });
    await createSeries();
    await createAuthor();
    await createAuthor();
    await insertDownloads([
      { status: "queued" },
      { status: "downloading" },
      { status: "completed" },
      { status: "failed" },
      { status: "abandoned" },
      { status: "queued" },
    ]);
    await db.insert(failedAttempts).values({ taskName: "SERIES", reason: "test", lastAttempt: new Date().toISOString() });

    const after = await data("/api/system/stats/");
    expect(after).toEqual({
      books: {
        total_active: before.books.total_active + 3,
        archived: before.books.archived + 2,
        duplicates: before.books.duplicates + 1,
        grand_total: before.books.grand_total + 6,
      },
      series: { total: before.series.total + 1 },
      authors: { total: before.authors.total + 2 },
      downloads: {
        total: before.downloads.total + 6,
        queued: before.downloads.queued + 2,
        downloading: before.downloads.downloading + 1,
        completed: before.downloads.completed + 1,
        // failed and abandoned together, as in the original
        failed: before.downloads.failed + 2,
      },
      failed_attempts: { total: before.failed_attempts.total + 1 },
    });
  });
});

describe("GET /api/system/library-status", () => {
  it("answers metadata quality over active books and both completion summaries", async () => {
    const before = await data("/api/system/library-status");
    await insertBooks(1, { metadataCompletenessPercent: 100 });
    await insertBooks(1, { metadataCompletenessPercent: 50 });
    await insertBooks(1, { metadataCompletenessPercent: 80 });
    await insertBooks(1, { metadataCompletenessPercent: 10, status: "archived" }); // not active: not counted
    const after = await data("/api/system/library-status");
    const q = before.metadata_quality;
    expect(after.metadata_quality).toEqual({
      active_books: q.active_books + 3,
      average_completeness_percent: expect.any(Number),
      books_below_80_percent: q.books_below_80_percent + 1,
      books_100_percent: q.books_100_percent + 1,
    });
    const expectedAverage = (q.average_completeness_percent * q.active_books + 230) / (q.active_books + 3);
    expect(Math.abs(after.metadata_quality.average_completeness_percent - expectedAverage)).toBeLessThanOrEqual(0.01);
    expect(after.series_completion).toEqual(await data("/api/series/completion-summary"));
    expect(after.author_completion).toEqual(await data("/api/authors/completion-summary"));
  });
});

describe("GET /api/system/download-stats", () => {
  it("answers the queue by status and by source, and the retries that are due", async () => {
    const source = unique("source");
    const before = await data("/api/system/download-stats");
    expect(Object.keys(before).sort()).toEqual(["retry_due_count", "source_breakdown", "status_breakdown", "total_downloads"]);
    await insertDownloads([
      { source, status: "queued", nextRetry: past }, // due
      { source, status: "queued", nextRetry: future }, // not yet
      { source, status: "queued" }, // never retried
      { source, status: "failed", nextRetry: past }, // not queued
      { source: `${source}-b`, status: "abandoned" },
      { source: `${source}-b`, status: "completed" },
      { source: `${source}-b`, status: "downloading" },
    ]);
    const after = await data("/api/system/download-stats");
    const s = before.status_breakdown;
    expect(after).toEqual({
      status_breakdown: {
        queued: s.queued + 3,
        downloading: s.downloading + 1,
        completed: s.completed + 1,
        failed: s.failed + 1,
        abandoned: s.abandoned + 1,
      },
      source_breakdown: { ...before.source_breakdown, [source]: 4, [`${source}-b`]: 3 },
      retry_due_count: before.retry_due_count + 1,
      total_downloads: before.total_downloads + 7,
    });
  });
});

describe("GET /api/system/storage", () => {
  it("answers real row counts per table and the database size D1 reports", async () => {
    const before = await data("/api/system/storage");
    expect(before).toEqual({
      total_books: expect.any(Number),
      tables: expect.any(Object),
      total_rows: expect.any(Number),
      database_size_bytes: expect.any(Number),
      database_size_mb: expect.any(Number),
    });
    for (const table of [
      "books",
      "series",
      "authors",
      "downloads",
      "missing_books",
      "metadata_corrections",
      "tasks",
      "failed_attempts",
      "users",
      "audit_logs",
      "api_keys",
    ]) {
      expect(before.tables[table], table).toEqual(expect.any(Number));
    }
    expect(before.total_rows).toBe(Object.values(before.tables as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(Number.isInteger(before.database_size_bytes) && before.database_size_bytes > 0).toBe(true);
    expect(before.database_size_mb).toBe(Math.round((before.database_size_bytes / 1024 / 1024) * 100) / 100);

    // 400 KB of text must show up in the size, and the rows in the counts.
    await insertBooks(4, { description: "x".repeat(100_000) });
    await insertBooks(1, { status: "archived" });
    await createSeries();
    const after = await data("/api/system/storage");
    expect(after.total_books).toBe(before.total_books + 4);
    expect(after.tables.books).toBe(before.tables.books + 5);
    expect(after.tables.series).toBe(before.tables.series + 1);
    expect(after.database_size_bytes).toBeGreaterThanOrEqual(before.database_size_bytes + 400_000);
  });
});

describe("GET /api/system/configuration", () => {
  const shape = (environment: string, rate_limits: Record<string, string>) => ({
    version: expect.any(String),
    environment,
    features: { metadata_completeness: true, series_completion: true, author_completion: true, gap_analysis: true },
    authentication: { operator_key: { configured: true }, admin_login: { configured: true } },
    integrations:
      environment === "production"
        ? {
            audiobookshelf: { configured: false },
            qbittorrent: { configured: false },
            prowlarr: { configured: false },
            google_books: { configured: false },
            audible: { configured: true },
          }
        : {
            audiobookshelf: { configured: false, missing: ["ABS_URL", "ABS_TOKEN"] },
            qbittorrent: { configured: false, missing: ["QB_URL", "QB_API_KEY (or QB_USERNAME and QB_PASSWORD)"] },
            prowlarr: { configured: false, missing: ["PROWLARR_URL", "PROWLARR_API_KEY"] },
            google_books: { configured: false, missing: ["GOOGLE_BOOKS_API_KEY"] },
            audible: { configured: true },
          },
    upstream: {
      timeout_ms: 10000,
      access_service_token: { configured: false },
      qb_max_active: 3,
      qb_stall_minutes: 120,
      acquire_max_per_run: 5,
      release_language: "ENG",
    },
    requests: { per_day: 5, auto_approve: ["operator", "admin"] },
    rate_limits,
    body_limits: { default_bytes: 1_048_576, upload_bytes: 5_242_880 },
    cors: { allowed_origins: [] },
    retention_policy: { history_retention_days: 30, failed_attempts_retention: "permanent" },
  });
  const DEFAULTS = {
    public: "10/minute",
    docs: "60/minute",
    authenticated: "60/minute",
    admin: "1000/minute",
    download: "20/hour",
    metadata: "30/minute",
    search: "20/minute",
    health: "100/minute",
    upload: "5/minute",
  };

  it("answers the limits in force: the defaults, or the RATE_LIMITS override", async () => {
    const defaults = await withEnv({ RATE_LIMITS: "" })("/api/system/configuration", { auth: true });
    expect(defaults.status).toBe(200);
    expect((await defaults.json<{ data: unknown }>()).data).toEqual(shape("development", DEFAULTS));

    // A blank value (a variable set to spaces or a newline) overrides nothing either.
    const blank = await withEnv({ RATE_LIMITS: " \n " })("/api/system/configuration", { auth: true });
    expect(blank.status).toBe(200);
    expect((await blank.json<{ data: { rate_limits: unknown } }>()).data.rate_limits).toEqual(DEFAULTS);

    const overridden = await withEnv({ RATE_LIMITS: JSON.stringify({ search: "40/minute", download: "5/hour" }) })(
      "/api/system/configuration",
      { auth: true },
    );
    expect((await overridden.json<{ data: { rate_limits: unknown } }>()).data.rate_limits).toEqual({
      ...DEFAULTS,
      search: "40/minute",
      download: "5/hour",
    });
  });

  it("reports the outside services as configured from their bindings, in /configuration and in /health external_apis", async () => {
    const abs = {
      ABS_URL: "http://abs.home.test",
      ABS_TOKEN: "abs-token-value-1",
      GOOGLE_BOOKS_API_KEY: "gb-key-value-1",
      UPSTREAM_TIMEOUT_MS: "4000",
    };
    const api = withEnv({ ...abs, RATE_LIMITS: "" });
    const res = await api("/api/system/configuration", { auth: true });
    const text = await res.text();
    const data = JSON.parse(text).data;
    expect(data.integrations).toMatchObject({
      audiobookshelf: { configured: true },
      google_books: { configured: true },
      prowlarr: { configured: false },
    });
    expect(data.upstream.timeout_ms).toBe(4000);
    for (const value of [abs.ABS_TOKEN, abs.GOOGLE_BOOKS_API_KEY, abs.ABS_URL]) expect(text).not.toContain(value);

    const health = await (await api("/api/system/health", { auth: true })).json<{ data: { external_apis: unknown } }>();
    expect(health.data.external_apis).toEqual({
      audiobookshelf: "configured",
      qbittorrent: "not_configured",
      prowlarr: "not_configured",
      google_books: "configured",
      audible: "configured",
    });
  });

  it("says whether admin login is configured without naming or showing a secret", async () => {
    const res = await withEnv({ JWT_SECRET: "", RATE_LIMITS: "" })("/api/system/configuration", { auth: true });
    const body = await res.json<{ data: { authentication: unknown } }>();
    expect(body.data.authentication).toEqual({ operator_key: { configured: true }, admin_login: { configured: false } });
  });

  it("shows no secret value or secret name, in production too", async () => {
    const strong = (name: string) => `${name.toLowerCase()}-${"k7Qx9vR2mW4pL8sT".repeat(3)}`;
    const secrets = { API_KEY: strong("API_KEY"), JWT_SECRET: strong("JWT_SECRET"), PASSWORD_SALT: strong("PASSWORD_SALT") };
    const res = await withEnv({ ...secrets, ENVIRONMENT: "production", RATE_LIMITS: "" })("/api/system/configuration", {
      headers: { "X-API-Key": secrets.API_KEY },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text).data).toEqual(shape("production", DEFAULTS));
    for (const [name, value] of Object.entries(secrets)) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(name);
    }
    const dev = await (await call("/api/system/configuration", { auth: true })).text();
    for (const name of ["API_KEY", "JWT_SECRET", "PASSWORD_SALT"] as const) expect(dev).not.toContain(env[name]);
  });
});

describe("access", () => {
  it.each(ROUTES)("GET /api/system/%s needs credentials", async (route) => {
    const res = await call(`/api/system/${route}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject(errorShape(401, "unauthorized"));
  });

  it.each(ROUTES)("GET /api/system/%s refuses other methods with 405", async (route) => {
    const res = await call(`/api/system/${route}`, { method: "POST", auth: true, json: {} });
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject(errorShape(405, "method_not_allowed"));
  });

  it("keeps GET /api/system/health", async () => {
    expect((await call("/api/system/health", { auth: true })).status).toBe(200);
  });
});
