import { z } from "zod";
import { REQUEST_ROLES } from "../config/env";
import { DOWNLOAD_STATUSES, TASK_STATUSES } from "../db/schema";
import { timestamp } from "../openapi/common";
import { authorSummary } from "./authors.schemas";
import { check } from "./health.schemas";
import { seriesSummary } from "./series.schemas";

// The answers of /api/system (src/services/system.ts, src/services/queue/).

const n = () => z.number().int();
const counts = z.record(z.string(), z.number().int());

export const systemHealth = z.strictObject({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  version: z.string(),
  environment: z.string(),
  checks: z.strictObject({ database: check, migrations: check, configuration: check, rate_limiter: check }),
  external_apis: z
    .record(z.string(), z.enum(["configured", "not_configured"]))
    .meta({ description: "Configured or not; /api/integrations probes them" }),
});

export const stats = z.strictObject({
  books: z.strictObject({ total_active: n(), archived: n(), duplicates: n(), grand_total: n() }),
  series: z.strictObject({ total: n() }),
  authors: z.strictObject({ total: n() }),
  downloads: z.strictObject({
    total: n(),
    queued: n(),
    downloading: n(),
    completed: n(),
    failed: n().meta({ description: "Failed and abandoned" }),
  }),
  failed_attempts: z.strictObject({ total: n() }),
});

export const libraryStatusSchema = z.strictObject({
  metadata_quality: z.strictObject({
    active_books: n(),
    average_completeness_percent: z.number(),
    books_below_80_percent: n(),
    books_100_percent: n(),
  }),
  series_completion: seriesSummary,
  author_completion: authorSummary,
});

export const downloadStatsSchema = z.strictObject({
  status_breakdown: z.strictObject(
    Object.fromEntries(DOWNLOAD_STATUSES.map((status) => [status, n()])) as Record<(typeof DOWNLOAD_STATUSES)[number], z.ZodNumber>,
  ),
  source_breakdown: counts,
  retry_due_count: n(),
  total_downloads: n(),
});

export const storageSchema = z.strictObject({
  total_books: n().meta({ description: "Active books" }),
  tables: counts.meta({ description: "Rows per table" }),
  total_rows: n(),
  database_size_bytes: n().nullable(),
  database_size_mb: z.number().nullable(),
});

export const monitorStatusSchema = z.strictObject({
  configured: z.boolean(),
  max_active: n(),
  polled_at: timestamp.nullable(),
  state_counts: counts.meta({ description: "qBittorrent state → torrents, at the last poll" }),
  active_downloads: z.array(
    z.strictObject({
      download_id: n(),
      title: z.string(),
      qbittorrent_hash: z.string().nullable(),
      qbittorrent_status: z.string().nullable(),
      progress: z.number(),
      download_speed: n().nullable().meta({ description: "Bytes a second, as qBittorrent reported at the last poll" }),
      eta_seconds: n()
        .nullable()
        .meta({ description: "Seconds left, as qBittorrent estimated at the last poll; null when unknown or never" }),
      state_since: timestamp.nullable(),
      sent_at: timestamp.nullable(),
    }),
  ),
  last_run: z
    .strictObject({ task_id: n(), status: z.enum(TASK_STATUSES), started: timestamp.nullable(), error_message: z.string().nullable() })
    .nullable(),
});

const configured = z.strictObject({ configured: z.boolean() });

export const configurationSchema = z.strictObject({
  version: z.string(),
  environment: z.string(),
  features: z.record(z.string(), z.boolean()),
  authentication: z.strictObject({ operator_key: configured, admin_login: configured }),
  integrations: z.record(
    z.string(),
    z.strictObject({
      configured: z.boolean(),
      missing: z.array(z.string()).optional().meta({ description: "Bindings to set (never in production)" }),
    }),
  ),
  upstream: z.strictObject({
    timeout_ms: n(),
    access_service_token: configured,
    qb_max_active: n(),
    qb_stall_minutes: n(),
    acquire_max_per_run: n(),
    release_language: z.string().meta({ description: "The language releases must be in (RELEASE_LANGUAGE), or any" }),
  }),
  requests: z.strictObject({
    per_day: n(),
    auto_approve: z.array(z.enum(REQUEST_ROLES)).meta({ description: "Roles whose requests are approved at once" }),
  }),
  rate_limits: z.record(z.string(), z.string()),
  body_limits: z.strictObject({ default_bytes: n(), upload_bytes: n() }),
  cors: z.strictObject({ allowed_origins: z.array(z.string()) }),
  retention_policy: z.strictObject({ history_retention_days: n(), failed_attempts_retention: z.string() }),
});
