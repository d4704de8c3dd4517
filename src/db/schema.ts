// The database schema: the single source of truth. `npm run db:generate` turns a change here into a
// migration in drizzle/ (plus its hand-written reverse in drizzle/rollback/); `npm test` fails while
// the two disagree. Column names follow the original backend (reference, section 3).
import { sql } from "drizzle-orm";
import { type AnySQLiteColumn, index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// ---------------------------------------------------------------------------------------------
// Conventions
// ---------------------------------------------------------------------------------------------

// Timestamps are TEXT in the same shape as Date#toISOString() ("2026-11-27T12:00:00.000Z"), so
// SQL defaults, JS-written values and string comparisons (`< cutoff`) all agree.
const isoNow = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
const timestampNow = (name: string) => text(name).notNull().default(isoNow);
// SQLite has no ON UPDATE; drizzle fills the column on every update that does not set it.
const updatedAt = (name: string) => timestampNow(name).$onUpdate(() => new Date().toISOString());

// Allowed values. Not CHECK constraints (changing one would mean rebuilding the table in SQLite);
// the API validates with these lists and the column types carry them.
export const BOOK_STATUSES = ["active", "duplicate", "archived"] as const;
export const COMPLETION_STATUSES = ["complete", "partial", "incomplete"] as const;
export const DOWNLOAD_STATUSES = ["queued", "downloading", "completed", "failed", "abandoned"] as const;
export const ABS_IMPORT_STATUSES = ["pending", "imported", "import_failed"] as const;
export const GAP_REASONS = ["series_gap", "author_gap", "new_release"] as const;
export const GAP_DOWNLOAD_STATUSES = ["identified", "queued", "downloading", "completed", "failed"] as const;
export const TASK_STATUSES = ["scheduled", "running", "completed", "failed", "skipped"] as const;
export const USER_ROLES = ["admin", "moderator", "viewer"] as const;
export const API_KEY_ROLES = ["viewer", "operator"] as const;
export const GAP_RUN_STATUSES = ["running", "completed", "failed"] as const;

type JsonObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Library
// ---------------------------------------------------------------------------------------------

// Books link to series/authors by name (books.series = series.name, books.author = authors.name),
// compared trimmed and case-insensitively; names are stored trimmed, hence the lower() indexes.
export const books = sqliteTable(
  "books",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    absId: text("abs_id"),
    title: text("title").notNull(),
    author: text("author"),
    series: text("series"),
    seriesNumber: text("series_number"),
    isbn: text("isbn"),
    asin: text("asin"),
    publisher: text("publisher"),
    publishedYear: integer("published_year"),
    durationMinutes: integer("duration_minutes"),
    description: text("description"),
    metadataCompletenessPercent: integer("metadata_completeness_percent").notNull().default(0),
    lastMetadataUpdate: text("last_metadata_update"),
    // field name → source that supplied it
    metadataSource: text("metadata_source", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
    dateAdded: timestampNow("date_added"),
    dateUpdated: updatedAt("date_updated"),
    importSource: text("import_source"),
    status: text("status", { enum: BOOK_STATUSES }).notNull().default("active"),
    narrator: text("narrator"),
    qualityScore: real("quality_score"),
    mamRuleVersion: integer("mam_rule_version"),
    duplicateStatus: text("duplicate_status").notNull().default("none"),
  },
  (t) => [
    uniqueIndex("books_abs_id_unique").on(t.absId),
    index("books_title_idx").on(t.title),
    index("books_author_idx").on(t.author),
    index("books_series_idx").on(t.series),
    index("books_date_added_idx").on(t.dateAdded),
    index("books_status_date_added_idx").on(t.status, t.dateAdded),
    index("books_status_title_idx").on(t.status, t.title),
    index("books_status_completeness_idx").on(t.status, t.metadataCompletenessPercent),
    index("books_series_lower_status_idx").on(sql`lower(${t.series})`, t.status),
    index("books_author_lower_status_idx").on(sql`lower(${t.author})`, t.status),
  ],
);

export const series = sqliteTable(
  "series",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    author: text("author"),
    hardcoverId: text("hardcover_id"),
    goodreadsId: text("goodreads_id"),
    totalBooksInSeries: integer("total_books_in_series"),
    booksOwned: integer("books_owned").notNull().default(0),
    booksMissing: integer("books_missing").notNull().default(0),
    completionPercentage: integer("completion_percentage").notNull().default(0),
    lastCompletionCheck: text("last_completion_check"),
    completionStatus: text("completion_status", { enum: COMPLETION_STATUSES }),
    dateCreated: timestampNow("date_created"),
    dateUpdated: updatedAt("date_updated"),
  },
  (t) => [
    uniqueIndex("series_name_lower_unique").on(sql`lower(${t.name})`),
    index("series_hardcover_id_idx").on(t.hardcoverId),
    index("series_goodreads_id_idx").on(t.goodreadsId),
    index("series_completion_status_idx").on(t.completionStatus),
    // list order: completion_percentage desc, name
    index("series_completion_pct_name_idx").on(t.completionPercentage, t.name),
  ],
);

// The original has no stored completion percentage for authors: it is derived from
// audiobooks_owned / total_audiobooks_external when answered.
export const authors = sqliteTable(
  "authors",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    hardcoverId: text("hardcover_id"),
    goodreadsId: text("goodreads_id"),
    googleBooksId: text("google_books_id"),
    mamAuthorId: text("mam_author_id"),
    totalAudiobooksExternal: integer("total_audiobooks_external"),
    audiobooksOwned: integer("audiobooks_owned").notNull().default(0),
    audiobooksMissing: integer("audiobooks_missing").notNull().default(0),
    lastCompletionCheck: text("last_completion_check"),
    completionStatus: text("completion_status", { enum: COMPLETION_STATUSES }),
    dateCreated: timestampNow("date_created"),
    dateUpdated: updatedAt("date_updated"),
  },
  (t) => [
    uniqueIndex("authors_name_lower_unique").on(sql`lower(${t.name})`),
    index("authors_hardcover_id_idx").on(t.hardcoverId),
    index("authors_goodreads_id_idx").on(t.goodreadsId),
    index("authors_last_completion_check_idx").on(t.lastCompletionCheck),
    index("authors_completion_status_idx").on(t.completionStatus),
    // list and favorites order: audiobooks_owned desc, name
    index("authors_owned_name_idx").on(t.audiobooksOwned, t.name),
  ],
);

// ---------------------------------------------------------------------------------------------
// Acquisition: downloads and the gaps (missing books) they fill. The two reference each other.
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Metadata history
// ---------------------------------------------------------------------------------------------

export const metadataCorrections = sqliteTable(
  "metadata_corrections",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    bookId: integer("book_id")
      .notNull()
      .references(() => books.id, { onDelete: "cascade" }),
    fieldName: text("field_name").notNull(),
    oldValue: text("old_value"),
    newValue: text("new_value"),
    source: text("source").notNull(),
    reason: text("reason"),
    correctionDate: timestampNow("correction_date"),
    correctedBy: text("corrected_by").notNull().default("system"),
  },
  (t) => [
    index("metadata_corrections_book_id_date_idx").on(t.bookId, t.correctionDate),
    index("metadata_corrections_source_date_idx").on(t.source, t.correctionDate),
    index("metadata_corrections_date_idx").on(t.correctionDate),
    index("metadata_corrections_field_name_idx").on(t.fieldName),
  ],
);

// Google Books lookups, kept so a book is not asked for twice (src/services/google-books-cache.ts):
// the normalised `q` → the chosen volume's fields, or null for no hit.
export const googleBooksLookups = sqliteTable("google_books_lookups", {
  query: text("query").primaryKey(),
  result: text("result", { mode: "json" }).$type<JsonObject | null>(),
  fetchedAt: timestampNow("fetched_at"),
});

// Calls made to an outside service per quota day (Google Books: 1,000 a day per key).
export const upstreamQuota = sqliteTable(
  "upstream_quota",
  {
    service: text("service").notNull(),
    day: text("day").notNull(),
    calls: integer("calls").notNull().default(0),
  },
  (t) => [uniqueIndex("upstream_quota_service_day_unique").on(t.service, t.day)],
);

// ---------------------------------------------------------------------------------------------
// Scheduler
// ---------------------------------------------------------------------------------------------

export const tasks = sqliteTable(
  "tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskName: text("task_name").notNull(),
    scheduledTime: text("scheduled_time"),
    actualStart: text("actual_start"),
    actualEnd: text("actual_end"),
    durationSeconds: integer("duration_seconds"),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    itemsProcessed: integer("items_processed").notNull().default(0),
    itemsSucceeded: integer("items_succeeded").notNull().default(0),
    itemsFailed: integer("items_failed").notNull().default(0),
    logOutput: text("log_output"),
    errorMessage: text("error_message"),
    taskMetadata: text("task_metadata", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    dateCreated: timestampNow("date_created"),
    // VIP / ratio fields of the original's MAM tasks, kept for column parity.
    vipStatus: text("vip_status"),
    vipExpiryDate: text("vip_expiry_date"),
    renewalDecision: text("renewal_decision"),
    pointBalance: integer("point_balance"),
    renewalCost: integer("renewal_cost"),
    rulesUpdated: integer("rules_updated"),
    pendingItemsProcessed: integer("pending_items_processed"),
    currentRatio: real("current_ratio"),
    emergencyActive: integer("emergency_active", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    // execution history: by exact name, newest first
    index("tasks_task_name_date_created_idx").on(t.taskName, t.dateCreated),
    index("tasks_status_idx").on(t.status),
    index("tasks_scheduled_time_idx").on(t.scheduledTime),
    // retention cleanup
    index("tasks_date_created_idx").on(t.dateCreated),
  ],
);

// Per task: pause/resume, its cron when changed from the default, and the dispatcher's mark (the
// scheduled time of the last tick that considered it). Survives restarts and deploys.
export const schedulerState = sqliteTable("scheduler_state", {
  taskName: text("task_name").primaryKey(),
  paused: integer("paused", { mode: "boolean" }).notNull().default(false),
  pausedAt: text("paused_at"),
  pausedBy: text("paused_by"),
  cron: text("cron"),
  cronUpdatedBy: text("cron_updated_by"),
  lastCheckedAt: text("last_checked_at"),
  updatedAt: updatedAt("updated_at"),
});

// Tally per (task_name, item_id, item_name), upserted in code: a UNIQUE index cannot do it because
// item_id/item_name may be NULL and SQLite treats NULLs as distinct.
export const failedAttempts = sqliteTable(
  "failed_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskName: text("task_name").notNull(),
    itemId: integer("item_id"),
    itemName: text("item_name"),
    reason: text("reason").notNull(),
    errorCode: text("error_code"),
    errorDetails: text("error_details"),
    firstAttempt: text("first_attempt"),
    lastAttempt: text("last_attempt").notNull(),
    attemptCount: integer("attempt_count").notNull().default(1),
    attemptMetadata: text("attempt_metadata", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    createdAt: timestampNow("created_at"),
  },
  (t) => [index("failed_attempts_task_item_idx").on(t.taskName, t.itemId), index("failed_attempts_last_attempt_idx").on(t.lastAttempt)],
);

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    username: text("username").notNull(),
    email: text("email").notNull(),
    // Self-describing, e.g. "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>", so the cost can
    // be raised later without a migration.
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("viewer"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    lastLogin: text("last_login"),
    createdAt: timestampNow("created_at"),
    updatedAt: updatedAt("updated_at"),
    loginAttempts: integer("login_attempts").notNull().default(0),
    lockedUntil: text("locked_until"),
    // Counts the changes that end every session (password, activation, role); a token carries
    // the value it was issued under (claim `gen`) and is refused once they differ.
    tokenGeneration: integer("token_generation").notNull().default(0),
  },
  (t) => [uniqueIndex("users_username_unique").on(t.username), uniqueIndex("users_email_unique").on(t.email)],
);

// Login attempts per (username, client address) and per username, known or not: see
// src/services/login-throttle.ts. Keys and account are SHA-256 hashes, never the name or address.
export const loginThrottle = sqliteTable(
  "login_throttle",
  {
    key: text("key").primaryKey(),
    account: text("account").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lockedUntil: text("locked_until"),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("login_throttle_account").on(t.account), index("login_throttle_expires_at").on(t.expiresAt)],
);

// Audit rows outlive the user they mention: user_id becomes NULL, actor/username keep who it was.
export const auditLogs = sqliteTable(
  "audit_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    // who acted, as src/lib/actor.ts writes it: "user:<username>", "key:<name>", "operator", "cli"
    actor: text("actor").notNull(),
    username: text("username"),
    action: text("action").notNull(),
    resource: text("resource").notNull(),
    resourceId: text("resource_id"),
    details: text("details", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    timestamp: timestampNow("timestamp"),
  },
  (t) => [
    index("audit_logs_timestamp_idx").on(t.timestamp),
    index("audit_logs_user_id_timestamp_idx").on(t.userId, t.timestamp),
    index("audit_logs_action_timestamp_idx").on(t.action, t.timestamp),
    index("audit_logs_resource_timestamp_idx").on(t.resource, t.timestamp),
  ],
);

// Only the SHA-256 of a key is stored; the key itself is shown once, at creation.
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    role: text("role", { enum: API_KEY_ROLES }).notNull(),
    keyHash: text("key_hash").notNull(), // lowercase hex SHA-256
    keyPrefix: text("key_prefix").notNull(), // first characters, to recognise a key in listings
    createdBy: text("created_by"),
    createdAt: timestampNow("created_at"),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_unique").on(t.keyHash),
    // One active key per name: concurrent creates of a name cannot both pass (revoked keys keep theirs).
    uniqueIndex("api_keys_active_name_unique").on(t.name).where(sql`${t.revokedAt} IS NULL`),
  ],
);

// JWTs revoked by logout, until they would have expired anyway (then cleanup deletes them).
export const revokedTokens = sqliteTable(
  "revoked_tokens",
  {
    jti: text("jti").primaryKey(),
    userId: integer("user_id"),
    expiresAt: text("expires_at").notNull(),
    revokedAt: timestampNow("revoked_at"),
  },
  (t) => [index("revoked_tokens_expires_at_idx").on(t.expiresAt)],
);

// ---------------------------------------------------------------------------------------------
// Row types
// ---------------------------------------------------------------------------------------------

export type Book = typeof books.$inferSelect;
export type NewBook = typeof books.$inferInsert;
export type Series = typeof series.$inferSelect;
export type NewSeries = typeof series.$inferInsert;
export type Author = typeof authors.$inferSelect;
export type NewAuthor = typeof authors.$inferInsert;
export type Download = typeof downloads.$inferSelect;
export type NewDownload = typeof downloads.$inferInsert;
export type MissingBook = typeof missingBooks.$inferSelect;
export type NewMissingBook = typeof missingBooks.$inferInsert;
export type GapRun = typeof gapRuns.$inferSelect;
export type NewGapRun = typeof gapRuns.$inferInsert;
export type MetadataCorrection = typeof metadataCorrections.$inferSelect;
export type NewMetadataCorrection = typeof metadataCorrections.$inferInsert;
export type Task = typeof tasks.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;
export type SchedulerState = typeof schedulerState.$inferSelect;
export type NewSchedulerState = typeof schedulerState.$inferInsert;
export type FailedAttempt = typeof failedAttempts.$inferSelect;
export type NewFailedAttempt = typeof failedAttempts.$inferInsert;
export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type AuditLog = typeof auditLogs.$inferSelect;
export type NewAuditLog = typeof auditLogs.$inferInsert;
export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
export type RevokedToken = typeof revokedTokens.$inferSelect;
export type NewRevokedToken = typeof revokedTokens.$inferInsert;
