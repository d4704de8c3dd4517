import { z } from "zod";
import { GAP_DOWNLOAD_STATUSES, GAP_REASONS, GAP_RUN_STATUSES, GAP_TITLE_SOURCES } from "../db/schema";
import { timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

// The answers of /api/gaps (src/services/gaps.ts, src/services/acquire.ts).

/** A missing book (`missingBookJson`). */
export const gapSchema = z
  .strictObject({
    id: z.number().int(),
    title: z.string(),
    reason_missing: z.enum(GAP_REASONS),
    series_id: z.number().int().nullable(),
    series_name: z.string().nullable(),
    series_number: z.string().nullable(),
    author_id: z.number().int().nullable(),
    author_name: z.string().nullable(),
    priority: z.number().int().meta({ description: "1 first third of the series, 2 middle, 3 last" }),
    download_status: z.enum(GAP_DOWNLOAD_STATUSES),
    download_id: z.number().int().nullable(),
    book_id: z.number().int().nullable().meta({ description: "The library book that fills the gap" }),
    resolved: z.boolean(),
    isbn: z.string().nullable(),
    asin: z.string().nullable(),
    hardcover_id: z.string().nullable(),
    goodreads_id: z.string().nullable(),
    identified_date: timestamp,
    title_source: z.enum(GAP_TITLE_SOURCES).nullable().meta({
      description:
        'Where the title came from: the Audible catalogue, a release name, only the library\'s positions ("Saga #3": no real title known), or set by hand',
    }),
    title_checked_at: timestamp.nullable().meta({ description: "When that source said so" }),
    release_date: z
      .string()
      .nullable()
      .meta({ description: "YYYY-MM-DD from the catalogue; an announced book is not searched for before it" }),
  })
  .meta({ id: "MissingBook" });

export const gapPage = pageOf("missing_books", gapSchema);

/** A gap analysis run (`gapRunJson`). */
export const gapRun = z
  .strictObject({
    id: z.number().int(),
    status: z.enum(GAP_RUN_STATUSES),
    started_at: timestamp,
    finished_at: timestamp.nullable(),
    duration_seconds: z.number().nullable(),
    series_analyzed: z.number().int(),
    authors_analyzed: z.number().int(),
    gaps_found: z.number().int(),
    gaps_resolved: z.number().int(),
    stats: z.record(z.string(), z.unknown()).meta({ description: "The run's figures (as the analysis answers them)" }),
    error_message: z.string().nullable(),
  })
  .meta({ id: "GapRun" });

export const runPage = pageOf("runs", gapRun);

export const analysis = gapRun.extend({ run_id: z.number().int(), message: z.string() });

export const resetResult = z.strictObject({ deleted_runs: z.number().int(), message: z.string() });

const release = z.strictObject({
  guid: z.string(),
  title: z.string(),
  indexer: z.string().nullable(),
  seeders: z.number().int(),
  size: z.number(),
  freeleech: z.boolean(),
  match: z.string().meta({ description: "How the release matched the book" }),
});

const decision = z.strictObject({
  guid: z.string(),
  title: z.string(),
  accepted: z.boolean(),
  reason: z.string(),
  detail: z.string(),
  rank: z.number().int().nullable(),
  freeleech: z.boolean(),
  seeders: z.number().int(),
  size: z.number(),
});

export const acquisition = z.strictObject({
  dry_run: z.boolean(),
  max_downloads: z.number().int(),
  searched: z.number().int(),
  queued: z.array(
    z.strictObject({ missing_book_id: z.number().int(), wanted: z.string(), download_id: z.number().int().nullable(), release }),
  ),
  skipped: z.array(
    z.strictObject({
      missing_book_id: z.number().int(),
      wanted: z.string(),
      reason: z.enum([
        "download_active",
        "download_completed",
        "no_matching_release",
        "duplicate_release",
        "no_results",
        "not_open",
        "not_released",
      ]),
      detail: z.string(),
    }),
  ),
  decisions: z
    .array(
      z.strictObject({
        missing_book_id: z.number().int(),
        wanted: z.strictObject({
          title: z.string(),
          author: z.string().nullable(),
          series: z.string().nullable(),
          position: z.string().nullable(),
          title_source: z.enum(GAP_TITLE_SOURCES).meta({
            description:
              "Where the wanted title came from: the Audible catalogue, a release name, only the library's positions (no real title known), or set by hand",
          }),
          title_checked_at: timestamp.nullable(),
        }),
        query: z.string(),
        query_reused: z.boolean().meta({ description: "The same query was sent for an earlier gap of this run; its answer was reused" }),
        releases: z.array(decision),
      }),
    )
    .optional()
    .meta({ description: "Per gap searched: what it wants, the query, and every ranked release with its reason (dry_run only)" }),
  refused_links: z
    .array(z.strictObject({ missing_book_id: z.number().int(), guid: z.string(), title: z.string(), reason: z.string() }))
    .meta({
      description: "Releases left out because none of their links may go to qBittorrent (a magnet, or a link on PROWLARR_URL's origin)",
    }),
  not_reached: z.number().int().meta({ description: "Open gaps not looked at because the run's limits were reached" }),
  stopped: z.string().optional().meta({ description: "Set when Prowlarr failed part way: what was done before stands" }),
});

export const analyzeAndAcquire = z.strictObject({ analysis, acquisition });
