import { and, asc, count, desc, eq, inArray, isNotNull, lte, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type Download, downloads } from "../../db/schema";
import { NotFoundError } from "../../errors";
import { type PageQuery, page } from "../../lib/pagination";
import type { DownloadStatus } from "../download-states";
import { downloadJson } from "./json";

// The queue as read: lists by status, the failed and the due, one download.

export async function findDownload(db: Database, id: number): Promise<Download> {
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
export function listDownloads(db: Database, query: PageQuery & { status?: DownloadStatus; book_id?: number }) {
  const where = and(
    query.status ? eq(downloads.status, query.status) : undefined,
    query.book_id === undefined ? undefined : eq(downloads.bookId, query.book_id),
  );
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
