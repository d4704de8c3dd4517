import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { jsonTable } from "../../db/json-rows";
import { type Download, downloads } from "../../db/schema";
import type { NotificationInput } from "../notifications/enqueue";

// Where a download stands in the queue, and a failed attempt counted (by the poll and the send).

/** First automatic retry after this long, doubling with each failed attempt. */
export const RETRY_BASE_MS = 60 * 60_000;
export const SENDING = "sending";

/**
 * The mark-failed path (../downloads/writes.ts `markFailed`), automated: one more attempt counted, abandoned at
 * max_retries, otherwise back to the queue, due again after a delay that doubles with each
 * attempt. Written only while the download is still where the decision was made (`where`).
 */
export function countFailure(db: Database, row: Download, reason: string, state: string | null, now: Date, where: SQL) {
  const attempts = sql`${downloads.retryCount} + 1`;
  const exhausted = sql`${attempts} >= ${downloads.maxRetries}`;
  const retryAt = new Date(now.getTime() + RETRY_BASE_MS * 2 ** row.retryCount).toISOString();
  return db
    .update(downloads)
    .set({
      retryCount: attempts,
      lastAttempt: now.toISOString(),
      status: sql`CASE WHEN ${exhausted} THEN 'abandoned' ELSE 'queued' END`,
      nextRetry: sql`CASE WHEN ${exhausted} THEN NULL ELSE ${retryAt} END`,
      absImportError: sql`CASE WHEN ${exhausted} THEN ${`Max retries exceeded: ${reason}`} ELSE ${reason} END`,
      qbittorrentStatus: state,
      qbittorrentStatusSince: now.toISOString(),
    })
    .where(and(eq(downloads.id, row.id), where));
}

/** One failed attempt of a download, for `countFailures`: its retry delay follows its own count. */
export interface FailureRow {
  id: number;
  reason: string;
  state: string | null;
  retry_at: string;
}

export function failureRow(row: Download, reason: string, state: string | null, now: Date): FailureRow {
  return { id: row.id, reason, state, retry_at: new Date(now.getTime() + RETRY_BASE_MS * 2 ** row.retryCount).toISOString() };
}

/**
 * `countFailure` for many downloads in one statement (their reasons, states and retry times as
 * one JSON parameter), as a QUEUE run that finds many failed at once writes them.
 */
export function countFailures(db: Database, rows: FailureRow[], now: Date, where: SQL) {
  const stamp = now.toISOString();
  const exhausted = sql`${downloads.retryCount} + 1 >= ${downloads.maxRetries}`;
  const failed = jsonTable("failed", ["id", "reason", "state", "retry_at"], rows);
  return db
    .update(downloads)
    .set({
      retryCount: sql`${downloads.retryCount} + 1`,
      lastAttempt: stamp,
      status: sql`CASE WHEN ${exhausted} THEN 'abandoned' ELSE 'queued' END`,
      nextRetry: sql`CASE WHEN ${exhausted} THEN NULL ELSE failed.retry_at END`,
      absImportError: sql`CASE WHEN ${exhausted} THEN 'Max retries exceeded: ' || failed.reason ELSE failed.reason END`,
      qbittorrentStatus: sql`failed.state`,
      qbittorrentStatusSince: stamp,
    })
    .from(failed)
    .where(and(eq(downloads.id, sql`failed.id`), where));
}

/** The notification of one failed attempt: `download.abandoned` when it was the last one, else `download.failed`. */
export function failureEvent(row: Download, reason: string): NotificationInput {
  const attempts = row.retryCount + 1;
  return {
    event: attempts >= row.maxRetries ? "download.abandoned" : "download.failed",
    data: { download_id: row.id, title: row.title, reason, attempts, max_retries: row.maxRetries, missing_book_id: row.missingBookId },
  };
}

export const isDownloading = eq(downloads.status, "downloading");
export const isClaimed = and(eq(downloads.status, "queued"), sql`${downloads.qbittorrentStatus} = 'sending'`);
