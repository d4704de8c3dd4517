import { and, asc, count, countDistinct, desc, eq, gt, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { authors, bookSeries, books, type GapRun, gapRuns, missingBooks, series } from "../db/schema";
import { failureReason } from "../lib/failure";
import { OWNED, recomputeAuthors, recomputeSeries } from "./completion";

/**
 * Gap analysis, from the database alone. For every series with a known
 * `total_books_in_series`, each whole-number position 1..total that no owned book (active, files
 * present) holds in it, as any of its series, is a gap: one `missing_books` row (reason `series_gap`), kept across runs by the unique
 * index (series_id, series_number, reason_missing). A later run marks a gap resolved when a book
 * fills it (book_id = that book, download_status `completed`) and reopens it when that book is
 * gone. Author gaps are counts (`authors.audiobooks_missing`): which titles are missing needs an
 * outside catalogue. Each run is a `gap_runs` row.
 */

/** What the analysis does, as /api/scheduler/configuration reports it. */
export const GAP_SETTINGS = {
  series_gaps: true,
  author_gap_counts: true,
  positions: 'whole numbers 1..total_books_in_series; a book holds one when its series_number is that number ("3", "03", "3.0")',
  priority: "1 for the first third of a series, 2 for the middle third, 3 for the last third",
  authors_listed_per_run: 50,
} as const;

/** How many authors with missing audiobooks a run lists in its stats. */
const AUTHORS_LISTED = GAP_SETTINGS.authors_listed_per_run;

/** A run as answered. */
export function gapRunJson(row: GapRun) {
  const ms = row.finishedAt ? Date.parse(row.finishedAt) - Date.parse(row.startedAt) : null;
  return {
    id: row.id,
    status: row.status,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
    duration_seconds: ms === null ? null : Math.max(0, ms) / 1000,
    series_analyzed: row.seriesAnalyzed,
    authors_analyzed: row.authorsAnalyzed,
    gaps_found: row.gapsFound,
    gaps_resolved: row.gapsResolved,
    stats: row.stats,
    error_message: row.errorMessage,
  };
}

/** The whole-number position a series_number text names ("3", "03", "3.0"), else NULL ("2.5", "III", ""). */
export function wholePosition(text: SQL): SQL {
  const t = sql`trim(${text})`;
  return sql`(CASE WHEN ${t} GLOB '[0-9]*' AND ${t} NOT GLOB '*[^0-9.]*' AND cast(${t} AS REAL) = cast(${t} AS INTEGER) THEN cast(${t} AS INTEGER) END)`;
}

/** Owned books that hold the gap's position in its series, as any of their series (inside an UPDATE of missing_books). */
const holdersOfGap = sql`FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id JOIN ${series} s ON s.id = ${missingBooks.seriesId}
  WHERE lower(l.name) = lower(s.name) AND ${OWNED}
    AND ${wholePosition(sql`l.sequence`)} = cast(${missingBooks.seriesNumber} AS INTEGER)`;

const isSeriesGap = eq(missingBooks.reasonMissing, "series_gap");

function resolveFilledGaps(db: Database) {
  return db
    .update(missingBooks)
    .set({ bookId: sql`(SELECT b.id ${holdersOfGap} ORDER BY b.id LIMIT 1)`, downloadStatus: "completed" })
    .where(and(isSeriesGap, isNull(missingBooks.bookId), sql`EXISTS (SELECT 1 ${holdersOfGap})`));
}

function reopenEmptiedGaps(db: Database) {
  return db
    .update(missingBooks)
    .set({ bookId: null, downloadStatus: "identified" })
    .where(and(isSeriesGap, isNotNull(missingBooks.bookId), sql`NOT EXISTS (SELECT 1 ${holdersOfGap})`));
}

/** Untouched gaps (no download, never resolved) past their series' total, or of a series whose total is no longer known. */
function removeStaleGaps(db: Database) {
  return db
    .delete(missingBooks)
    .where(
      and(
        isSeriesGap,
        isNull(missingBooks.bookId),
        isNull(missingBooks.downloadId),
        eq(missingBooks.downloadStatus, "identified"),
        sql`NOT EXISTS (SELECT 1 FROM ${series} s WHERE s.id = ${missingBooks.seriesId} AND s.total_books_in_series >= cast(${missingBooks.seriesNumber} AS INTEGER))`,
      ),
    );
}

/**
 * One row per series and unheld position: the positions are generated per series (recursive CTE,
 * exactly sum(total) rows), the holders found through the lower(name) index of book_series. Existing gaps are
 * skipped, and the unique index keeps a concurrent run from doubling one. Raw SQL (a CTE-prefixed
 * INSERT), with no bound parameters: drizzle's D1 batch cannot bind a raw statement's.
 */
function insertNewGaps(db: Database) {
  return db.run(sql`
    WITH RECURSIVE pos(series_id, n, total) AS (
      SELECT id, 1, total_books_in_series FROM ${series} WHERE total_books_in_series > 0
      UNION ALL
      SELECT series_id, n + 1, total FROM pos WHERE n < total
    )
    INSERT INTO ${missingBooks} (series_id, author_id, title, author_name, series_name, series_number, reason_missing, priority)
    SELECT s.id,
           (SELECT a.id FROM ${authors} a WHERE lower(a.name) = lower(s.author)),
           s.name || ' #' || p.n, s.author, s.name, cast(p.n AS TEXT), 'series_gap',
           min(3, 1 + (p.n - 1) * 3 / p.total)
    FROM pos p JOIN ${series} s ON s.id = p.series_id
    WHERE NOT EXISTS (
            SELECT 1 FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id
            WHERE lower(l.name) = lower(s.name) AND ${OWNED} AND ${wholePosition(sql`l.sequence`)} = p.n)
      AND NOT EXISTS (
            SELECT 1 FROM ${missingBooks} m
            WHERE m.series_id = s.id AND m.series_number = cast(p.n AS TEXT) AND m.reason_missing = 'series_gap')
    ON CONFLICT DO NOTHING`);
}

const openSeriesGap = and(isSeriesGap, isNull(missingBooks.bookId));
const knownTotal = gt(series.totalBooksInSeries, 0);
const knownAuthorTotal = gt(authors.totalAudiobooksExternal, 0);
const authorHasGap = and(knownAuthorTotal, gt(authors.audiobooksMissing, 0));

/**
 * Runs the analysis: completion recomputed for every series and author, gaps resolved, reopened,
 * removed and found, all in one D1 transaction; then the run row is completed with the figures.
 * A failure is recorded on the run row and thrown.
 */
export async function analyzeGaps(db: Database) {
  const run = await db.insert(gapRuns).values({ status: "running", startedAt: new Date().toISOString() }).returning().get();
  try {
    const [, , resolved, reopened, removed, found, [seriesCounts], [authorCounts], authorGaps, [library]] = await db.batch([
      recomputeSeries(db),
      recomputeAuthors(db),
      resolveFilledGaps(db),
      reopenEmptiedGaps(db),
      removeStaleGaps(db),
      insertNewGaps(db),
      db
        .select({
          analyzed: sql<number>`(SELECT count(*) FROM ${series} WHERE ${knownTotal})`.mapWith(Number),
          with_gaps: countDistinct(missingBooks.seriesId),
          open_gaps: count(),
        })
        .from(missingBooks)
        .where(openSeriesGap),
      db
        .select({
          analyzed: count(),
          with_gaps: sql<number>`coalesce(sum(${authorHasGap}), 0)`.mapWith(Number),
          books_missing: sql<number>`coalesce(sum(CASE WHEN ${authorHasGap} THEN ${authors.audiobooksMissing} ELSE 0 END), 0)`.mapWith(
            Number,
          ),
        })
        .from(authors)
        .where(knownAuthorTotal),
      db
        .select({
          author_id: authors.id,
          author_name: authors.name,
          total_audiobooks_external: authors.totalAudiobooksExternal,
          audiobooks_owned: authors.audiobooksOwned,
          audiobooks_missing: authors.audiobooksMissing,
        })
        .from(authors)
        .where(authorHasGap)
        .orderBy(desc(authors.audiobooksMissing), asc(authors.name))
        .limit(AUTHORS_LISTED),
      db.select({ active_books: count() }).from(books).where(eq(books.status, "active")),
    ]);
    const changes = (result: { meta: { changes?: number } }) => result.meta.changes ?? 0;
    const stats = {
      library_books: library?.active_books ?? 0,
      series_analyzed: seriesCounts?.analyzed ?? 0,
      series_with_gaps: seriesCounts?.with_gaps ?? 0,
      open_series_gaps: seriesCounts?.open_gaps ?? 0,
      gaps_found: changes(found),
      gaps_resolved: changes(resolved),
      gaps_reopened: changes(reopened),
      gaps_removed: changes(removed),
      authors_analyzed: authorCounts?.analyzed ?? 0,
      authors_with_gaps: authorCounts?.with_gaps ?? 0,
      author_books_missing: authorCounts?.books_missing ?? 0,
      author_gaps: authorGaps,
    };
    const finished = await db
      .update(gapRuns)
      .set({
        status: "completed",
        finishedAt: new Date().toISOString(),
        seriesAnalyzed: stats.series_analyzed,
        authorsAnalyzed: stats.authors_analyzed,
        gapsFound: stats.gaps_found,
        gapsResolved: stats.gaps_resolved,
        stats,
      })
      .where(eq(gapRuns.id, run.id))
      .returning()
      .get();
    return {
      run_id: run.id,
      ...gapRunJson(finished ?? run),
      message: `Found ${stats.gaps_found} new gaps in the library (${stats.open_series_gaps} open, ${stats.gaps_resolved} resolved by this run)`,
    };
  } catch (error) {
    const reason = failureReason(error, "gap_analysis_failed", { run_id: run.id });
    await db
      .update(gapRuns)
      .set({ status: "failed", finishedAt: new Date().toISOString(), errorMessage: reason })
      .where(eq(gapRuns.id, run.id))
      .catch(() => undefined);
    throw error;
  }
}
