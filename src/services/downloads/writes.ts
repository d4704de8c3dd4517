import { and, desc, eq, inArray, or, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/client";
import { books, type Download, downloads, missingBooks } from "../../db/schema";
import { ConflictError, type FieldError, NotFoundError, ValidationError } from "../../errors";
import {
  ACTIVE_STATUSES,
  assertTransition,
  type DownloadAction,
  type DownloadStatus,
  FRESH_ROUND_FROM,
  sourcesOf,
} from "../download-states";
import { type AbsImportStatus, type DownloadCreateInput, downloadJson, syncGap } from "./json";
import { checkLink } from "./links";
import { findDownload } from "./reads";

const DAY_MS = 86_400_000;

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
 * The links as stored (./links.ts): each one a magnet or a link on Prowlarr's origin, Prowlarr's
 * key taken out; anything else is refused (422) before it can reach qBittorrent.
 */
export function storedLinks(input: DownloadCreateInput, prowlarrUrl: string | undefined) {
  if (!input.magnet_link && !input.torrent_url) {
    throw new ValidationError([{ path: "body", message: "Either magnet_link or torrent_url is required", code: "custom" }]);
  }
  const errors: FieldError[] = [];
  const stored = (field: "magnet_link" | "torrent_url") => {
    const link = input[field];
    if (!link) return null;
    const checked = checkLink(link, prowlarrUrl);
    if (checked.ok) return checked.link;
    errors.push({ path: `body.${field}`, message: `Not sent to qBittorrent: ${checked.reason}`, code: "custom" });
    return null;
  };
  const links = { magnet: stored("magnet_link"), url: stored("torrent_url") };
  if (errors.length > 0) throw new ValidationError(errors);
  return links;
}

/** A new download's columns, its links as stored. */
export function newDownload(input: DownloadCreateInput, magnet: string | null, url: string | null) {
  return {
    bookId: input.book_id ?? null,
    missingBookId: input.missing_book_id ?? null,
    title: input.title,
    author: input.author ?? null,
    source: input.source,
    magnetLink: magnet,
    torrentUrl: url,
    metadataJson: input.metadata_json ?? null,
  };
}

/**
 * Queues a download. The same magnet link or torrent URL may not be queued twice while a download
 * of it is active: the check and the insert are one statement, so two concurrent requests cannot
 * both pass it. A named gap moves to `queued` in the same transaction.
 */
export async function createDownload(db: Database, input: DownloadCreateInput, prowlarrUrl: string | undefined) {
  const { magnet, url } = storedLinks(input, prowlarrUrl);
  await assertReferences(db, input);
  const sameSource = or(magnet ? eq(downloads.magnetLink, magnet) : undefined, url ? eq(downloads.torrentUrl, url) : undefined);
  const activeDuplicate = and(inArray(downloads.status, ACTIVE_STATUSES), sameSource);
  // Insert-unless-duplicate as one statement: the new row takes the id of an active duplicate if
  // there is one, and that conflict on the primary key inserts nothing.
  const insert = db
    .insert(downloads)
    .values({ id: sql`(SELECT ${downloads.id} FROM ${downloads} WHERE ${activeDuplicate} LIMIT 1)`, ...newDownload(input, magnet, url) })
    .onConflictDoNothing({ target: downloads.id })
    .returning({ id: downloads.id });
  // The new row, or the active one it duplicates.
  const holder = db.select().from(downloads).where(activeDuplicate).orderBy(desc(downloads.id)).limit(1);
  const gap = input.missing_book_id != null ? [syncGap(db, input.missing_book_id)] : [];
  const [inserted, [row]] = await db.batch([insert, holder, ...gap]);
  if (!row) throw new Error("The queued download could not be read back");
  if (inserted.length === 0) throw duplicateOf(row, magnet);
  return { download_id: row.id, ...downloadJson(row) };
}

/** The 409 for a link already queued as `holder` (an active download). */
export function duplicateOf(holder: Pick<Download, "id" | "status" | "magnetLink">, magnet: string | null): ConflictError {
  const which = magnet && holder.magnetLink === magnet ? "magnet link" : "torrent URL";
  return new ConflictError(`This ${which} is already queued as download ${holder.id} (status ${holder.status})`, "duplicate_resource", {
    download_id: holder.id,
    status: holder.status,
  });
}

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
    // The old error is history now (failed_attempts keeps the tally): the row shows the new round.
    absImportError: null,
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
