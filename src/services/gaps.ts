import { and, asc, count, desc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type GAP_DOWNLOAD_STATUSES, type GAP_REASONS, gapRuns, type MissingBook, missingBooks } from "../db/schema";
import { AppError, ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { type PageQuery, page } from "../lib/pagination";

import { gapRunJson } from "./gap-analysis";

// Gaps (missing books) and analysis runs as answered and listed; the analysis itself is ./gap-analysis.ts.
export { analyzeGaps, GAP_SETTINGS, gapRunJson } from "./gap-analysis";

export type GapStatus = (typeof GAP_DOWNLOAD_STATUSES)[number];
export type GapReason = (typeof GAP_REASONS)[number];

/** A gap as answered. */
export function missingBookJson(row: MissingBook) {
  return {
    id: row.id,
    title: row.title,
    reason_missing: row.reasonMissing,
    series_id: row.seriesId,
    series_name: row.seriesName,
    series_number: row.seriesNumber,
    author_id: row.authorId,
    author_name: row.authorName,
    priority: row.priority,
    download_status: row.downloadStatus,
    download_id: row.downloadId,
    book_id: row.bookId,
    resolved: row.bookId !== null,
    isbn: row.isbn,
    asin: row.asin,
    hardcover_id: row.hardcoverId,
    goodreads_id: row.goodreadsId,
    identified_date: row.identifiedDate,
    title_source: row.titleSource,
    title_checked_at: row.titleCheckedAt,
    release_date: row.releaseDate,
  };
}

export interface GapQuery extends PageQuery {
  series_id?: number;
  series?: string;
  author_id?: number;
  author?: string;
  status?: GapStatus;
  reason?: GapReason;
  resolved?: boolean;
}

/** Gaps, open ones first, then by priority and reading order. */
export async function listGaps(db: Database, query: GapQuery) {
  const where = and(
    query.series_id === undefined ? undefined : eq(missingBooks.seriesId, query.series_id),
    query.series === undefined ? undefined : sql`lower(${missingBooks.seriesName}) = lower(${query.series})`,
    query.author_id === undefined ? undefined : eq(missingBooks.authorId, query.author_id),
    query.author === undefined ? undefined : sql`lower(${missingBooks.authorName}) = lower(${query.author})`,
    query.status === undefined ? undefined : eq(missingBooks.downloadStatus, query.status),
    query.reason === undefined ? undefined : eq(missingBooks.reasonMissing, query.reason),
    query.resolved === undefined ? undefined : query.resolved ? isNotNull(missingBooks.bookId) : isNull(missingBooks.bookId),
  );
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(missingBooks)
      .where(where)
      .orderBy(
        sql`${missingBooks.bookId} IS NOT NULL`,
        asc(missingBooks.priority),
        asc(missingBooks.seriesName),
        sql`cast(${missingBooks.seriesNumber} AS INTEGER)`,
        asc(missingBooks.id),
      )
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(missingBooks).where(where),
  ]);
  return page("missing_books", rows.map(missingBookJson), counted?.total ?? 0, query);
}

/** What a caller may set of a gap by hand: its title, and optionally its ASIN and release date (null clears them). */
export interface GapByHand {
  title: string;
  asin?: string | null | undefined;
  release_date?: string | null | undefined;
}

/**
 * A gap's title set by hand (source `hand`, dated now): gap analysis and the catalogue refresh never
 * replace it (./gap-analysis.ts, retitleGaps), and acquisition searches for it.
 */
export async function setGapByHand(db: Database, id: number, body: GapByHand, now = new Date()) {
  const set: Partial<typeof missingBooks.$inferInsert> = { title: body.title, titleSource: "hand", titleCheckedAt: now.toISOString() };
  if (body.asin !== undefined) set.asin = body.asin;
  if (body.release_date !== undefined) set.releaseDate = body.release_date;
  try {
    const [row] = await db.update(missingBooks).set(set).where(eq(missingBooks.id, id)).returning();
    if (!row) throw new NotFoundError("Missing book", id);
    return missingBookJson(row);
  } catch (error) {
    // AUTHOR_WATCH keeps one gap per author and title (missing_books_new_release_unique).
    if (isUniqueViolation(error)) throw new ConflictError(`The author already has a new release titled "${body.title}"`);
    throw error;
  }
}

const newestRunFirst = [desc(gapRuns.startedAt), desc(gapRuns.id)];

/** The last run, with its figures. */
export async function gapReport(db: Database) {
  const last = await db
    .select()
    .from(gapRuns)
    .orderBy(...newestRunFirst)
    .limit(1)
    .get();
  if (!last) {
    throw new AppError("not_found", "Resource not found", { detail: "No gap analysis has run yet: POST /api/gaps/analyze first" });
  }
  return gapRunJson(last);
}

/** Every recorded run, newest first. */
export async function gapHistory(db: Database, query: PageQuery) {
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(gapRuns)
      .orderBy(...newestRunFirst)
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(gapRuns),
  ]);
  return page("runs", rows.map(gapRunJson), counted?.total ?? 0, query);
}

/** Forgets the recorded runs; the gaps themselves stay. */
export async function resetGapState(db: Database) {
  const result = await db.delete(gapRuns).run();
  const deleted = result.meta.changes ?? 0;
  return { deleted_runs: deleted, message: `Gap analysis state reset: ${deleted} run records deleted` };
}
