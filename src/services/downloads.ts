import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { type ABS_IMPORT_STATUSES, books, type Download, downloads, missingBooks } from "../db/schema";
import { ConflictError, type FieldError, NotFoundError, ValidationError } from "../errors";
import { type PageQuery, page } from "../lib/pagination";
import {
  ACTIVE_STATUSES,
  assertTransition,
  type DownloadAction,
  type DownloadStatus,
  FRESH_ROUND_FROM,
  GAP_STATUS_OF,
  sourcesOf,
} from "./download-states";

/**
 * The download queue (reference 2.6, 6.5). Every change goes through the state machine in
 * ./download-states.ts, and is written in one batch with the gap (missing_books row) it serves,
 * so a gap always shows the state of its latest download.
 */

export type AbsImportStatus = (typeof ABS_IMPORT_STATUSES)[number];

export interface DownloadCreateInput {
  title: string;
  source: string;
  author?: string | null;
  book_id?: number | null;
  missing_book_id?: number | null;
  magnet_link?: string | null;
  torrent_url?: string | null;
  /** What acquire knew of the release (info hash, indexer, ...), as JSON; not settable through the API. */
  metadata_json?: string | null;
}

const DAY_MS = 86_400_000;

/** A download as answered, by every route. */
export function downloadJson(row: Download) {
  return {
    id: row.id,
    book_id: row.bookId,
    missing_book_id: row.missingBookId,
    title: row.title,
    author: row.author,
    source: row.source,
    magnet_link: row.magnetLink,
    torrent_url: row.torrentUrl,
    status: row.status,
    qbittorrent_hash: row.qbittorrentHash,
    qbittorrent_status: row.qbittorrentStatus,
    retry_count: row.retryCount,
    max_retries: row.maxRetries,
    last_attempt: row.lastAttempt,
    next_retry: row.nextRetry,
    abs_import_status: row.absImportStatus,
    abs_import_error: row.absImportError,
    date_queued: row.dateQueued,
    date_completed: row.dateCompleted,
  };
}

// ---------------------------------------------------------------------------------------------
// The gap a download serves
// ---------------------------------------------------------------------------------------------

const gapStatusOfDownload = sql.join(
  [sql`CASE ${downloads.status}`, ...Object.entries(GAP_STATUS_OF).map(([download, gap]) => sql`WHEN ${download} THEN ${gap}`), sql`END`],
  sql` `,
);

/**
 * Puts a gap in the state of its latest download; with none left, back to `identified` (a gap
 * whose download completed stays completed). A gap that a library book fills (book_id set, by
 * gap analysis) is resolved and no longer follows its downloads.
 */
export function syncGap(db: Database, missingBookId: number) {
  const latest = sql`FROM ${downloads} WHERE ${downloads.missingBookId} = ${missingBookId} ORDER BY ${downloads.id} DESC LIMIT 1`;
  return db
    .update(missingBooks)
    .set({
      downloadId: sql`(SELECT ${downloads.id} ${latest})`,
      downloadStatus: sql`coalesce((SELECT ${gapStatusOfDownload} ${latest}), CASE WHEN ${missingBooks.downloadStatus} = 'completed' THEN 'completed' ELSE 'identified' END)`,
    })
    .where(and(eq(missingBooks.id, missingBookId), isNull(missingBooks.bookId)));
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

async function findDownload(db: Database, id: number): Promise<Download> {
  const row = await db.select().from(downloads).where(eq(downloads.id, id)).get();
  if (!row) throw new NotFoundError("Download", id);
  return row;
}

async function listWhere(db: Database, where: SQL | undefined, order: SQL[], query: PageQuery) {
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(downloads)
      .where(where)
      .orderBy(...order)
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(downloads).where(where),
  ]);
  return page("downloads", rows.map(downloadJson), counted?.total ?? 0, query);
}

/** The queue, newest first, optionally of one status. */
export function listDownloads(db: Database, query: PageQuery & { status?: DownloadStatus }) {
  const where = query.status ? eq(downloads.status, query.status) : undefined;
  return listWhere(db, where, [desc(downloads.dateQueued), desc(downloads.id)], query);
}

/** Waiting to start, oldest first. */
export function pendingDownloads(db: Database, query: PageQuery) {
  return listWhere(db, eq(downloads.status, "queued"), [asc(downloads.dateQueued), asc(downloads.id)], query);
}

/** Failed and abandoned, most recent attempt first. */
export function failedDownloads(db: Database, query: PageQuery) {
  return listWhere(db, inArray(downloads.status, ["failed", "abandoned"]), [desc(downloads.lastAttempt), desc(downloads.id)], query);
}

/** Re-queued downloads whose retry time has come, the longest due first. */
export function retryDueDownloads(db: Database, query: PageQuery, now = new Date()) {
  const where = and(eq(downloads.status, "queued"), isNotNull(downloads.nextRetry), lte(downloads.nextRetry, now.toISOString()));
  return listWhere(db, where, [asc(downloads.nextRetry), asc(downloads.id)], query);
}

export async function getDownload(db: Database, id: number) {
  return downloadJson(await findDownload(db, id));
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/** The book and gap a new download names must exist (422), and the gap must still be open (409). */
async function assertReferences(db: Database, input: DownloadCreateInput): Promise<void> {
  const [[book], [gap]] = await db.batch([
    db
      .select({ id: books.id })
      .from(books)
      .where(eq(books.id, input.book_id ?? 0)),
    db
      .select({ id: missingBooks.id, bookId: missingBooks.bookId })
      .from(missingBooks)
      .where(eq(missingBooks.id, input.missing_book_id ?? 0)),
  ]);
  const errors: FieldError[] = [];
  if (input.book_id != null && !book) errors.push({ path: "body.book_id", message: `No book has id ${input.book_id}`, code: "not_found" });
  if (input.missing_book_id != null && !gap) {
    errors.push({ path: "body.missing_book_id", message: `No missing book has id ${input.missing_book_id}`, code: "not_found" });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  if (gap?.bookId != null) {
    throw new ConflictError(`Missing book ${gap.id} is already in the library as book ${gap.bookId}`, "conflict", {
      missing_book_id: gap.id,
      book_id: gap.bookId,
    });
  }
}

/**
 * Queues a download. The same magnet link or torrent URL may not be queued twice while a download
 * of it is active: the check and the insert are one statement, so two concurrent requests cannot
 * both pass it. A named gap moves to `queued` in the same transaction.
 */
export async function createDownload(db: Database, input: DownloadCreateInput) {
  const magnet = input.magnet_link ?? null;
  const url = input.torrent_url ?? null;
  if (!magnet && !url) {
    throw new ValidationError([{ path: "body", message: "Either magnet_link or torrent_url is required", code: "custom" }]);
  }
  await assertReferences(db, input);
  const sameSource = or(magnet ? eq(downloads.magnetLink, magnet) : undefined, url ? eq(downloads.torrentUrl, url) : undefined);
  const activeDuplicate = and(inArray(downloads.status, ACTIVE_STATUSES), sameSource);
  // Insert-unless-duplicate as one statement: the new row takes the id of an active duplicate if
  // there is one, and that conflict on the primary key inserts nothing.
  const insert = db
    .insert(downloads)
    .values({
      id: sql`(SELECT ${downloads.id} FROM ${downloads} WHERE ${activeDuplicate} LIMIT 1)`,
      bookId: input.book_id ?? null,
      missingBookId: input.missing_book_id ?? null,
      title: input.title,
      author: input.author ?? null,
      source: input.source,
      magnetLink: magnet,
      torrentUrl: url,
      metadataJson: input.metadata_json ?? null,
    })
    .onConflictDoNothing({ target: downloads.id })
    .returning({ id: downloads.id });
  // The new row, or the active one it duplicates.
  const holder = db.select().from(downloads).where(activeDuplicate).orderBy(desc(downloads.id)).limit(1);
  const gap = input.missing_book_id != null ? [syncGap(db, input.missing_book_id)] : [];
  const [inserted, [row]] = await db.batch([insert, holder, ...gap]);
  if (!row) throw new Error("The queued download could not be read back");
  if (inserted.length === 0) {
    const which = magnet && row.magnetLink === magnet ? "magnet link" : "torrent URL";
    throw new ConflictError(`This ${which} is already queued as download ${row.id} (status ${row.status})`, "duplicate_resource", {
      download_id: row.id,
      status: row.status,
    });
  }
  return { download_id: row.id, ...downloadJson(row) };
}

/**
 * Writes a move the state machine allowed, guarded by the status it was allowed from: if another
 * request moved the download in between, nothing is written and the caller gets a 409.
 */
/**
 * Writes a move unless the download's status changed meanwhile. `from` is the statuses the write
 * may apply to: by default the one it was read in (the new values were computed from it); a move
 * computed entirely in SQL passes every status it is allowed from, so concurrent calls all apply.
 */
async function move(
  db: Database,
  current: Download,
  set: SQLiteUpdateSetSource<typeof downloads>,
  from: readonly DownloadStatus[] = [current.status],
): Promise<Download> {
  const update = db
    .update(downloads)
    .set(set)
    .where(and(eq(downloads.id, current.id), inArray(downloads.status, [...from])))
    .returning();
  const gap = current.missingBookId != null ? [syncGap(db, current.missingBookId)] : [];
  const [[row]] = await db.batch([update, ...gap]);
  if (!row) throw new ConflictError(`Download ${current.id} changed while this request was handled; read it again`, "conflict");
  return row;
}

async function transition(
  db: Database,
  id: number,
  action: DownloadAction,
  to: DownloadStatus | undefined,
  set: (current: Download, now: string) => SQLiteUpdateSetSource<typeof downloads>,
  { computedInSql = false } = {},
) {
  const current = await findDownload(db, id);
  assertTransition(id, current.status, action, to);
  const row = await move(db, current, set(current, new Date().toISOString()), computedInSql ? sourcesOf(action, to) : undefined);
  return { download_id: row.id, previous_status: current.status, ...downloadJson(row) };
}

/** PUT status: any status the state machine allows, with the qBittorrent fields when given. */
export function setStatus(db: Database, id: number, input: { status: DownloadStatus; qb_hash?: string; qb_status?: string }) {
  return transition(db, id, "status", input.status, (current, now) => ({
    status: input.status,
    lastAttempt: now,
    ...(input.qb_hash ? { qbittorrentHash: input.qb_hash } : {}),
    ...(input.qb_status ? { qbittorrentStatus: input.qb_status } : {}),
    ...(input.status === "completed" && current.status !== "completed" ? { dateCompleted: now } : {}),
  }));
}

/** Completed, with the Audiobookshelf import state; marking a completed download again updates only that. */
export function markComplete(db: Database, id: number, input: { abs_import_status: AbsImportStatus }) {
  return transition(db, id, "mark-complete", "completed", (current, now) => ({
    status: "completed",
    dateCompleted: current.dateCompleted ?? now,
    absImportStatus: input.abs_import_status,
    qbittorrentStatus: "completed",
  }));
}

/**
 * One failed attempt: the service counts it (retry_count + 1, in SQL, so concurrent reports each
 * count) and abandons the download when the count reaches max_retries.
 */
export async function markFailed(db: Database, id: number, input: { error_msg: string }) {
  const attempts = sql`${downloads.retryCount} + 1`;
  const exhausted = sql`${attempts} >= ${downloads.maxRetries}`;
  const answer = await transition(
    db,
    id,
    "mark-failed",
    undefined,
    (_, now) => ({
      retryCount: attempts,
      lastAttempt: now,
      status: sql`CASE WHEN ${exhausted} THEN 'abandoned' ELSE 'failed' END`,
      absImportError: sql`CASE WHEN ${exhausted} THEN ${`Max retries exceeded: ${input.error_msg}`} ELSE ${input.error_msg} END`,
    }),
    { computedInSql: true },
  );
  return { ...answer, error: answer.abs_import_error };
}

/**
 * Back to the queue, due again in `days_until_retry` days. Retrying a completed or abandoned
 * download starts a new round of attempts; retrying a failed one keeps counting.
 */
export async function retryDownload(db: Database, id: number, input: { days_until_retry: number }) {
  const answer = await transition(db, id, "retry", "queued", (current, now) => ({
    status: "queued",
    nextRetry: new Date(Date.parse(now) + input.days_until_retry * DAY_MS).toISOString(),
    ...(FRESH_ROUND_FROM.includes(current.status) ? { retryCount: 0 } : {}),
    ...(current.status === "completed" ? { dateCompleted: null, absImportStatus: null } : {}),
  }));
  return { ...answer, days_until_retry: input.days_until_retry };
}

/** Hard delete, as the original; its gap goes back to the state of the download before it, if any. */
export async function deleteDownload(db: Database, id: number) {
  const current = await findDownload(db, id);
  const gap = current.missingBookId != null ? [syncGap(db, current.missingBookId)] : [];
  const [deleted] = await db.batch([db.delete(downloads).where(eq(downloads.id, id)).returning({ id: downloads.id }), ...gap]);
  if (deleted.length === 0) throw new NotFoundError("Download", id);
  return { download_id: id, message: `Download '${current.title}' removed from queue` };
}
