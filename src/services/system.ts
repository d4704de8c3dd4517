import { and, asc, count, eq, getTableName, is, isNotNull, lte, type SQL, sql } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { type Config, SERVICE_NAMES, type ServiceName } from "../config";
import type { Database } from "../db/client";
import * as schema from "../db/schema";
import { authors, books, DOWNLOAD_STATUSES, downloads, failedAttempts, series } from "../db/schema";
import { MAX_BODY_BYTES } from "../middleware/body";
import { formatLimit, TIERS } from "../rate-limit/tiers";
import { VERSION } from "../version";
import { authorCompletionSummary } from "./authors";
import { seriesCompletionSummary } from "./series";

/**
 * System figures: every number is an aggregate computed by D1, never a row load
 * and never an estimate.
 */

/** Retention of history rows by the CLEANUP task; failed attempts are kept. */
export const HISTORY_RETENTION_DAYS = 30;

type DownloadStatus = (typeof DOWNLOAD_STATUSES)[number];

const countWhere = (condition: SQL) => sql<number>`coalesce(sum(${condition}), 0)`.mapWith(Number);

// Aliased: D1 returns columns by name, and these five would otherwise share one.
const byDownloadStatus = Object.fromEntries(
  DOWNLOAD_STATUSES.map((status) => [status, countWhere(sql`${downloads.status} = ${status}`).as(`status_${status}`)]),
) as Record<DownloadStatus, SQL.Aliased<number>>;

/** Catalogue, queue and failure counts. */
export async function systemStats(db: Database) {
  const [[book], [seriesCount], [authorCount], [download], [failed]] = await db.batch([
    db
      .select({
        total_active: countWhere(sql`${books.status} = 'active'`),
        archived: countWhere(sql`${books.status} = 'archived'`),
        duplicates: countWhere(sql`${books.status} = 'duplicate'`),
        grand_total: count(),
      })
      .from(books),
    db.select({ total: count() }).from(series),
    db.select({ total: count() }).from(authors),
    db.select({ total: count(), ...byDownloadStatus }).from(downloads),
    db.select({ total: count() }).from(failedAttempts),
  ]);
  return {
    books: book!,
    series: seriesCount!,
    authors: authorCount!,
    downloads: {
      total: download!.total,
      queued: download!.queued,
      downloading: download!.downloading,
      completed: download!.completed,
      // failed counts the abandoned too, as in the original
      failed: download!.failed + download!.abandoned,
    },
    failed_attempts: failed!,
  };
}

/** Metadata quality of the active books, and the series and author completion summaries. */
export async function libraryStatus(db: Database) {
  const [[quality], series_completion, author_completion] = await Promise.all([
    db
      .select({
        active_books: count(),
        average_completeness_percent: sql<number>`coalesce(round(avg(${books.metadataCompletenessPercent}), 2), 0)`.mapWith(Number),
        books_below_80_percent: countWhere(sql`${books.metadataCompletenessPercent} < 80`),
        books_100_percent: countWhere(sql`${books.metadataCompletenessPercent} = 100`),
      })
      .from(books)
      .where(eq(books.status, "active")),
    seriesCompletionSummary(db),
    authorCompletionSummary(db),
  ]);
  return { metadata_quality: quality!, series_completion, author_completion };
}

/** The queue by status and by source, and how many queued downloads are due for a retry. */
export async function downloadStats(db: Database, now = new Date()) {
  const [[byStatus], bySource, [due]] = await db.batch([
    db.select(byDownloadStatus).from(downloads),
    db.select({ source: downloads.source, count: count() }).from(downloads).groupBy(downloads.source).orderBy(asc(downloads.source)),
    db
      .select({ count: count() })
      .from(downloads)
      .where(and(eq(downloads.status, "queued"), isNotNull(downloads.nextRetry), lte(downloads.nextRetry, now.toISOString()))),
  ]);
  const status_breakdown = byStatus!;
  return {
    status_breakdown,
    source_breakdown: Object.fromEntries(bySource.map((row) => [row.source, row.count])),
    retry_due_count: due!.count,
    total_downloads: DOWNLOAD_STATUSES.reduce((sum, status) => sum + status_breakdown[status], 0),
  };
}

/**
 * Every table of the schema, so a new table is counted without touching this file. Listed on
 * first use, not at module load: every cold start paid ~7 ms for it (the first localeCompare
 * loads ICU's collation); the names are lowercase ASCII, so code-unit order is the same order.
 */
let tables: { table: SQLiteTable; name: string }[] | undefined;
const allTables = () =>
  (tables ??= (Object.values(schema) as unknown[])
    .filter((value): value is SQLiteTable => is(value, SQLiteTable))
    .map((table) => ({ table, name: getTableName(table) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));

const MB = 1024 * 1024;

/**
 * Rows per table, and the database's size as D1 reports it: `PRAGMA page_count` is not allowed
 * on D1 (SQLITE_AUTH), so the size is the `meta.size_after` of the counting query itself.
 * Audio files are not stored by this service, so no audio storage figure is given.
 */
export async function storage(db: Database) {
  const counts = sql.join(
    allTables().map(({ table, name }) => sql`(SELECT count(*) FROM ${table}) AS ${sql.identifier(name)}`),
    sql`, `,
  );
  const activeBooks = sql`(SELECT count(*) FROM ${books} WHERE ${books.status} = 'active') AS active_books`;
  const result = await db.run(sql`SELECT ${counts}, ${activeBooks}`);
  const { active_books, ...tables } = (result.results[0] ?? {}) as Record<string, number>;
  const bytes = typeof result.meta.size_after === "number" ? result.meta.size_after : null;
  return {
    total_books: active_books ?? 0,
    tables,
    total_rows: Object.values(tables).reduce((sum, rows) => sum + rows, 0),
    database_size_bytes: bytes,
    database_size_mb: bytes === null ? null : Math.round((bytes / MB) * 100) / 100,
  };
}

/**
 * Whether each outside service is configured, from the bindings (not probed: /api/integrations
 * probes). Outside production, an unconfigured service names the bindings to set.
 */
export function integrationsConfiguration(config: Config) {
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => {
      const integration = config.integrations[name];
      if (integration.configured) return [name, { configured: true }];
      return [name, config.isProduction ? { configured: false } : { configured: false, missing: integration.missing }];
    }),
  ) as Record<ServiceName, { configured: boolean; missing?: string[] }>;
}

/** What is in force: features, limits, retention. Secrets appear only as "configured" booleans. */
export function configuration(config: Config) {
  const configured = (value: string | undefined) => ({ configured: Boolean(value) });
  return {
    version: VERSION,
    environment: config.environment,
    features: {
      metadata_completeness: true,
      series_completion: true,
      author_completion: true,
      gap_analysis: true,
    },
    authentication: {
      operator_key: configured(config.secrets.API_KEY),
      admin_login: configured(config.secrets.JWT_SECRET && config.secrets.PASSWORD_SALT),
    },
    integrations: integrationsConfiguration(config),
    upstream: {
      timeout_ms: config.upstream.timeoutMs,
      access_service_token: configured(config.upstream.accessToken?.clientId),
      qb_max_active: config.upstream.qbMaxActive,
      qb_stall_minutes: config.upstream.qbStallMinutes,
      acquire_max_per_run: config.upstream.acquireMaxPerRun,
      release_language: config.upstream.releaseLanguage ?? "any",
    },
    requests: { per_day: config.requests.perDay, auto_approve: config.requests.autoApprove },
    rate_limits: Object.fromEntries(TIERS.map((tier) => [tier, formatLimit(config.rateLimits[tier])])),
    body_limits: { default_bytes: MAX_BODY_BYTES.default, upload_bytes: MAX_BODY_BYTES.upload },
    cors: { allowed_origins: config.allowedOrigins },
    retention_policy: { history_retention_days: HISTORY_RETENTION_DAYS, failed_attempts_retention: "permanent" },
  };
}
