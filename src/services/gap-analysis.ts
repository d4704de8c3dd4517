import { and, asc, count, countDistinct, desc, eq, gt, isNotNull, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { authors, bookSeries, books, catalogueSeries, type GapRun, gapRuns, missingBooks, series } from "../db/schema";
import { failureReason } from "../lib/failure";
import { OWNED, recomputeAuthors, recomputeSeries } from "./completion";

/**
 * Gap analysis, from the database alone. A series' total is the one set by hand, else the Audible
 * catalogue's (catalogue_series, kept by the CATALOGUE task: src/services/catalogue/refresh.ts);
 * each whole-number position 1..total that no active book of the series holds is a gap: one
 * `missing_books` row (reason `series_gap`), titled as the catalogue names that position
 * ("Oathbringer"), else by its place ("Stormlight #3", `title_source` library); a position is held
 * by an owned book (active, files present) in it, as any of its series. A series nobody
 * knows the total of has its internal gaps (owning 1 and 3 means 2 is missing). Gaps are kept
 * across runs by the unique index (series_id, series_number, reason_missing); a later run gives an
 * open gap the catalogue's title when it learns it (never one set by hand), marks a gap resolved
 * when a book fills it (book_id = that book, download_status `completed`) and reopens it when that
 * book is gone. Author gaps are counts (`authors.audiobooks_missing`). Each run is a `gap_runs` row.
 */

/** What the analysis does, as /api/scheduler/configuration reports it. */
export const GAP_SETTINGS = {
  series_gaps: true,
  author_gap_counts: true,
  positions:
    'whole numbers 1..total_books_in_series (set by hand, else the Audible catalogue\'s), else up to the highest owned; a book holds one when its series_number is that number ("3", "03", "3.0")',
  titles: 'the Audible catalogue\'s title for the position, else "Series #n"',
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

/**
 * The highest whole position an active book holds in series `s`: a series whose total nobody knows
 * has its internal gaps (owning 1 and 3 means 2 is missing), never a guessed end.
 */
const highestOwned = sql`(SELECT max(${wholePosition(sql`l.sequence`)}) FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id
  WHERE lower(l.name) = lower(s.name) AND ${OWNED})`;
/** The positions looked at: the known total, else up to the highest owned. */
const positionsOf = sql`coalesce(s.total_books_in_series, ${highestOwned})`;

/** The catalogue's totals for the series it knows, unless a total was set by hand (which always wins). */
function applyCatalogueTotals(db: Database) {
  return db.run(sql`
    UPDATE ${series} SET total_books_in_series = c.total, total_source = 'catalogue', total_checked_at = c.checked_at
    FROM ${catalogueSeries} c
    WHERE lower(c.name) = lower(${series}.name) AND c.status = 'found' AND c.total > 0
      AND coalesce(${series}.total_source, 'catalogue') = 'catalogue'
      AND (${series}.total_books_in_series IS NOT c.total OR ${series}.total_checked_at IS NOT c.checked_at)`);
}

/** Open series gaps take the catalogue's title for their position, unless their title was set by hand. */
function retitleGaps(db: Database) {
  return db.run(sql`
    UPDATE ${missingBooks}
    SET title = json_extract(m.value, '$.title'), title_source = 'catalogue', title_checked_at = c.checked_at,
        release_date = json_extract(m.value, '$.release_date')
    FROM ${series} s JOIN ${catalogueSeries} c ON lower(c.name) = lower(s.name) AND c.status = 'found', json_each(c.members) m
    WHERE s.id = ${missingBooks}.series_id AND ${missingBooks}.reason_missing = 'series_gap'
      AND coalesce(${missingBooks}.title_source, 'library') != 'hand'
      AND json_extract(m.value, '$.position') = ${missingBooks}.series_number
      AND json_extract(m.value, '$.title') IS NOT NULL
      AND (${missingBooks}.title != json_extract(m.value, '$.title') OR ${missingBooks}.title_checked_at IS NOT c.checked_at)`);
}

/**
 * Untouched gaps (no download, never resolved, not set by hand) past their series' positions, or
 * whose series is gone. One set by hand is someone's knowledge that the book exists, which a
 * shorter catalogue listing does not overrule: it stays until it is filled or deleted.
 */
function removeStaleGaps(db: Database) {
  return db
    .delete(missingBooks)
    .where(
      and(
        isSeriesGap,
        isNull(missingBooks.bookId),
        isNull(missingBooks.downloadId),
        eq(missingBooks.downloadStatus, "identified"),
        sql`${missingBooks.titleSource} IS NOT 'hand'`,
        sql`NOT EXISTS (SELECT 1 FROM ${series} s WHERE s.id = ${missingBooks.seriesId} AND ${positionsOf} >= cast(${missingBooks.seriesNumber} AS INTEGER))`,
      ),
    );
}

/**
 * "Series #n" for a position the catalogue has not named, within the 500 characters every stored
 * title keeps to (src/routes/books.schemas.ts): a series name of 500 has its end clipped.
 */
const TITLE_MAX = 500;
const placeholderTitle = sql`substr(s.name, 1, ${sql.raw(String(TITLE_MAX))} - length(' #' || p.n)) || ' #' || p.n`;

/**
 * One row per series and unheld position: the positions are generated per series (recursive CTE,
 * exactly sum(total) rows), the holders found through the lower(name) index of book_series. Existing gaps are
 * skipped, and so is a position an open request already wants (a `request` gap naming the series
 * and the position: src/services/requests/), so one book is never searched for twice; the
 * requests are read once (a materialized CTE), not per position. The unique index keeps a
 * concurrent run from doubling one. Raw SQL (a CTE-prefixed INSERT), with no bound parameters:
 * drizzle's D1 batch cannot bind a raw statement's.
 */
function insertNewGaps(db: Database) {
  return db.run(sql`
    WITH RECURSIVE pos(series_id, n, total) AS (
      SELECT s.id, 1, ${positionsOf} FROM ${series} s WHERE ${positionsOf} > 0
      UNION ALL
      SELECT series_id, n + 1, total FROM pos WHERE n < total
    ),
    requested(name, n) AS MATERIALIZED (
      SELECT DISTINCT lower(series_name), ${wholePosition(sql`series_number`)} FROM ${missingBooks}
      WHERE reason_missing = 'request' AND book_id IS NULL AND series_name IS NOT NULL
    )
    INSERT INTO ${missingBooks} (series_id, author_id, title, author_name, series_name, series_number, reason_missing, priority,
                                 title_source, title_checked_at, release_date)
    SELECT s.id,
           (SELECT a.id FROM ${authors} a WHERE lower(a.name) = lower(s.author)),
           coalesce(json_extract(m.value, '$.title'), ${placeholderTitle}), s.author, s.name, cast(p.n AS TEXT), 'series_gap',
           min(3, 1 + (p.n - 1) * 3 / p.total),
           CASE WHEN json_extract(m.value, '$.title') IS NOT NULL THEN 'catalogue' ELSE 'library' END,
           CASE WHEN json_extract(m.value, '$.title') IS NOT NULL THEN c.checked_at ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END,
           json_extract(m.value, '$.release_date')
    FROM pos p JOIN ${series} s ON s.id = p.series_id
    LEFT JOIN ${catalogueSeries} c ON lower(c.name) = lower(s.name) AND c.status = 'found'
    LEFT JOIN json_each(c.members) m ON json_extract(m.value, '$.position') = cast(p.n AS TEXT)
    WHERE NOT EXISTS (
            SELECT 1 FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id
            WHERE lower(l.name) = lower(s.name) AND ${OWNED} AND ${wholePosition(sql`l.sequence`)} = p.n)
      AND NOT EXISTS (
            SELECT 1 FROM ${missingBooks} m2
            WHERE m2.series_id = s.id AND m2.series_number = cast(p.n AS TEXT) AND m2.reason_missing = 'series_gap')
      AND NOT EXISTS (SELECT 1 FROM requested r WHERE r.name = lower(s.name) AND r.n = p.n)
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
    const [, , , resolved, reopened, removed, found, , [seriesCounts], [authorCounts], authorGaps, [library]] = await db.batch([
      applyCatalogueTotals(db),
      recomputeSeries(db),
      recomputeAuthors(db),
      resolveFilledGaps(db),
      reopenEmptiedGaps(db),
      removeStaleGaps(db),
      insertNewGaps(db),
      retitleGaps(db),
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
