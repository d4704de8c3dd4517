import { sql } from "drizzle-orm";
import { type AnySQLiteColumn, index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { type JsonObject, timestampNow } from "./columns";
import { authors, books, series } from "./library";

// Acquisition: downloads and the gaps (missing books) they fill. The two reference each other.

export const DOWNLOAD_STATUSES = ["queued", "downloading", "completed", "failed", "abandoned"] as const;
export const ABS_IMPORT_STATUSES = ["pending", "imported", "import_failed"] as const;
export const GAP_REASONS = ["series_gap", "author_gap", "new_release", "request"] as const;
export const GAP_DOWNLOAD_STATUSES = ["identified", "queued", "downloading", "completed", "failed"] as const;
export const GAP_RUN_STATUSES = ["running", "completed", "failed"] as const;
export const GAP_TITLE_SOURCES = ["catalogue", "release", "library", "hand"] as const;

export const downloads = sqliteTable(
  "downloads",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    bookId: integer("book_id").references(() => books.id, { onDelete: "cascade" }),
    // SET NULL, not CASCADE: deleting a gap must not delete its download.
    missingBookId: integer("missing_book_id").references((): AnySQLiteColumn => missingBooks.id, {
      onDelete: "set null",
    }),
    title: text("title").notNull(),
    author: text("author"),
    source: text("source").notNull(),
    magnetLink: text("magnet_link"),
    torrentUrl: text("torrent_url"),
    qbittorrentHash: text("qbittorrent_hash"),
    qbittorrentStatus: text("qbittorrent_status"),
    // When qbittorrent_status last changed (a stalledDL times out from here), and the fraction done.
    qbittorrentStatusSince: text("qbittorrent_status_since"),
    progress: real("progress"),
    status: text("status", { enum: DOWNLOAD_STATUSES }).notNull().default("queued"),
    retryCount: integer("retry_count").notNull().default(0),
    maxRetries: integer("max_retries").notNull().default(3),
    lastAttempt: text("last_attempt"),
    nextRetry: text("next_retry"),
    absImportStatus: text("abs_import_status", { enum: ABS_IMPORT_STATUSES }),
    absImportError: text("abs_import_error"),
    dateQueued: timestampNow("date_queued"),
    dateCompleted: text("date_completed"),
    metadataJson: text("metadata_json"),
    metadataAppliedAt: text("metadata_applied_at"),
    integrityStatus: text("integrity_status").notNull().default("pending"),
    releaseEdition: text("release_edition"),
    qualityScore: real("quality_score"),
    isPaid: integer("is_paid", { mode: "boolean" }).notNull().default(false),
    emergencyBlocked: integer("emergency_blocked", { mode: "boolean" }).notNull().default(false),
    paidDownloadAllowed: integer("paid_download_allowed", { mode: "boolean" }).notNull().default(true),
    freezeTimestamp: text("freeze_timestamp"),
    emergencyReason: text("emergency_reason"),
  },
  (t) => [
    index("downloads_date_queued_idx").on(t.dateQueued),
    index("downloads_status_date_queued_idx").on(t.status, t.dateQueued),
    index("downloads_status_last_attempt_idx").on(t.status, t.lastAttempt),
    index("downloads_status_next_retry_idx").on(t.status, t.nextRetry),
    index("downloads_source_idx").on(t.source),
    index("downloads_qbittorrent_hash_idx").on(t.qbittorrentHash),
    index("downloads_book_id_idx").on(t.bookId),
    index("downloads_missing_book_id_idx").on(t.missingBookId),
  ],
);

export const missingBooks = sqliteTable(
  "missing_books",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    bookId: integer("book_id").references(() => books.id, { onDelete: "set null" }),
    seriesId: integer("series_id").references(() => series.id, { onDelete: "cascade" }),
    authorId: integer("author_id").references(() => authors.id, { onDelete: "cascade" }),
    downloadId: integer("download_id").references((): AnySQLiteColumn => downloads.id, {
      onDelete: "set null",
    }),
    title: text("title").notNull(),
    authorName: text("author_name"),
    seriesName: text("series_name"),
    seriesNumber: text("series_number"),
    reasonMissing: text("reason_missing", { enum: GAP_REASONS }).notNull(),
    isbn: text("isbn"),
    asin: text("asin"),
    hardcoverId: text("hardcover_id"),
    goodreadsId: text("goodreads_id"),
    identifiedDate: timestampNow("identified_date"),
    downloadStatus: text("download_status", { enum: GAP_DOWNLOAD_STATUSES }).notNull().default("identified"),
    // 1 high, 2 medium, 3 low
    priority: integer("priority").notNull().default(1),
    // Where the title came from and when: the Audible catalogue, a release name, only the library's
    // positions ("Saga #3": no real title known), or set by hand (never replaced).
    titleSource: text("title_source", { enum: GAP_TITLE_SOURCES }),
    titleCheckedAt: text("title_checked_at"),
    // YYYY-MM-DD from the catalogue: an announced book is not searched for before it.
    releaseDate: text("release_date"),
  },
  (t) => [
    // Re-running gap analysis must not duplicate a gap. Also serves lookups by series_id
    // (including the ON DELETE CASCADE from series), so no separate series_id index.
    uniqueIndex("missing_books_series_number_reason_unique").on(t.seriesId, t.seriesNumber, t.reasonMissing),
    // AUTHOR_WATCH finds a new release once per author and title.
    uniqueIndex("missing_books_new_release_unique").on(t.authorId, t.title).where(sql`reason_missing = 'new_release'`),
    index("missing_books_author_id_idx").on(t.authorId),
    index("missing_books_book_id_idx").on(t.bookId),
    index("missing_books_download_id_idx").on(t.downloadId),
    index("missing_books_download_status_idx").on(t.downloadStatus),
    index("missing_books_identified_date_idx").on(t.identifiedDate),
  ],
);

// One row per analysis run, served by /api/gaps/report and /history.
export const gapRuns = sqliteTable(
  "gap_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    startedAt: timestampNow("started_at"),
    finishedAt: text("finished_at"),
    status: text("status", { enum: GAP_RUN_STATUSES }).notNull().default("running"),
    seriesAnalyzed: integer("series_analyzed").notNull().default(0),
    authorsAnalyzed: integer("authors_analyzed").notNull().default(0),
    gapsFound: integer("gaps_found").notNull().default(0),
    gapsResolved: integer("gaps_resolved").notNull().default(0),
    stats: text("stats", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    errorMessage: text("error_message"),
  },
  (t) => [index("gap_runs_started_at_idx").on(t.startedAt)],
);

export type Download = typeof downloads.$inferSelect;
export type NewDownload = typeof downloads.$inferInsert;
export type MissingBook = typeof missingBooks.$inferSelect;
export type NewMissingBook = typeof missingBooks.$inferInsert;
export type GapRun = typeof gapRuns.$inferSelect;
export type NewGapRun = typeof gapRuns.$inferInsert;
