import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type ABS_IMPORT_STATUSES, type Download, downloads, missingBooks } from "../../db/schema";
import { GAP_STATUS_OF } from "../download-states";
import { shownLink } from "./links";

// A download as sent and answered, and the gap (missing_books row) that follows it.

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

/** A download as answered, by every route. */
export function downloadJson(row: Download) {
  return {
    id: row.id,
    book_id: row.bookId,
    missing_book_id: row.missingBookId,
    title: row.title,
    author: row.author,
    source: row.source,
    // Never a credential: a magnet without its trackers, a URL without its key (./links.ts).
    magnet_link: shownLink(row.magnetLink),
    torrent_url: shownLink(row.torrentUrl),
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

const gapStatusOfDownload = sql.join(
  [sql`CASE ${downloads.status}`, ...Object.entries(GAP_STATUS_OF).map(([download, gap]) => sql`WHEN ${download} THEN ${gap}`), sql`END`],
  sql` `,
);

/**
 * Puts a gap in the state of its latest download; with none left, back to `identified` (a gap
 * whose download completed stays completed). A gap that a library book fills (book_id set, by
 * gap analysis) is resolved and no longer follows its downloads. Several gaps at once are one
 * statement (their ids as one JSON parameter), as a QUEUE run settling many downloads needs.
 */
export function syncGap(db: Database, missingBookIds: number | number[]) {
  const which = Array.isArray(missingBookIds)
    ? sql`${missingBooks.id} IN (SELECT value FROM json_each(${JSON.stringify(missingBookIds)}))`
    : eq(missingBooks.id, missingBookIds);
  const latest = sql`FROM ${downloads} WHERE ${downloads.missingBookId} = ${missingBooks.id} ORDER BY ${downloads.id} DESC LIMIT 1`;
  return db
    .update(missingBooks)
    .set({
      downloadId: sql`(SELECT ${downloads.id} ${latest})`,
      downloadStatus: sql`coalesce((SELECT ${gapStatusOfDownload} ${latest}), CASE WHEN ${missingBooks.downloadStatus} = 'completed' THEN 'completed' ELSE 'identified' END)`,
    })
    .where(and(which, isNull(missingBooks.bookId)));
}
