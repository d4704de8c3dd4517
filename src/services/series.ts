import { and, asc, count, desc, eq, gte, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { bookSeries, books, type Series, series } from "../db/schema";
import type { PageQuery } from "../lib/pagination";
import { OWNED, recomputeSeries } from "./completion";
import { wholePosition } from "./gap-analysis";
import { type CompletionStatus, trackedNames } from "./tracked";

/**
 * Series: the tracked series and their completion. The rules they share with authors (names,
 * lists, writes, recalculation) are ./tracked.ts; here are the series' own fields and answers.
 */

/** The writable fields, named as in the answers (the column names). */
export interface SeriesFields {
  name: string;
  author?: string | null;
  goodreads_id?: string | null;
  hardcover_id?: string | null;
  total_books_in_series?: number | null;
}

export function seriesJson(row: Series) {
  return {
    id: row.id,
    name: row.name,
    author: row.author,
    goodreads_id: row.goodreadsId,
    hardcover_id: row.hardcoverId,
    total_books_in_series: row.totalBooksInSeries,
    total_source: row.totalSource,
    total_checked_at: row.totalCheckedAt,
    books_owned: row.booksOwned,
    books_missing: row.booksMissing,
    completion_percentage: row.completionPercentage,
    completion_status: row.completionStatus,
    last_completion_check: row.lastCompletionCheck,
    date_created: row.dateCreated,
    date_updated: row.dateUpdated,
  };
}

const tracked = trackedNames({
  table: series,
  label: "Series",
  idKey: "series_id",
  uniqueIndex: "series_name_lower_unique",
  json: seriesJson,
  columns: (fields: Partial<SeriesFields>) => ({
    name: fields.name,
    author: fields.author,
    goodreadsId: fields.goodreads_id,
    hardcoverId: fields.hardcover_id,
    totalBooksInSeries: fields.total_books_in_series,
    // A total set by hand always wins over the catalogue's; clearing it lets the catalogue say again.
    ...(fields.total_books_in_series === undefined
      ? {}
      : fields.total_books_in_series === null
        ? { totalSource: null, totalCheckedAt: null }
        : { totalSource: "hand" as const, totalCheckedAt: new Date().toISOString() }),
  }),
  recompute: recomputeSeries,
});

/** Most complete first, then by name. */
const mostComplete = [desc(series.completionPercentage), asc(series.name)];

/** Active books in the series with this id, as any of their series (book_series), matched by name as completion counts them. */
const booksOfSeries = (id: number) =>
  and(
    sql`lower(${bookSeries.name}) = (SELECT lower(${series.name}) FROM ${series} WHERE ${series.id} = ${id})`,
    eq(books.status, "active"),
  );

/** Missing positions listed per series at most (books_missing counts them all). */
export const MAX_LISTED_POSITIONS = 200;

/**
 * Each series with the positions 1..total that no active book holds (as the gap analysis counts
 * them, src/services/gap-analysis.ts), read now: one query for the whole page.
 */
async function withMissingPositions<T extends { name: string; total_books_in_series: number | null }>(db: Database, rows: T[]) {
  const known = rows.filter((row) => (row.total_books_in_series ?? 0) > 0);
  const held = new Map<string, Set<number>>();
  if (known.length > 0) {
    // Held as completion and the gaps count it (src/services/completion.ts OWNED): every series of a
    // book (book_series), active and with its files.
    const position = wholePosition(sql`l.sequence`);
    const names = JSON.stringify(known.map((row) => row.name.toLowerCase()));
    const found = await db.all<{ series: string; n: number }>(sql`
      SELECT DISTINCT lower(l.name) AS series, ${position} AS n
      FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id
      WHERE lower(l.name) IN (SELECT value FROM json_each(${names})) AND ${OWNED} AND ${position} IS NOT NULL`);
    for (const { series: name, n } of found) held.set(name, (held.get(name) ?? new Set()).add(Number(n)));
  }
  return rows.map((row) => {
    const total = row.total_books_in_series ?? 0;
    if (total <= 0) return { ...row, missing_positions: null };
    const owned = held.get(row.name.toLowerCase()) ?? new Set<number>();
    const missing: string[] = [];
    for (let n = 1; n <= total && missing.length < MAX_LISTED_POSITIONS; n++) if (!owned.has(n)) missing.push(String(n));
    return { ...row, missing_positions: missing };
  });
}

export async function listSeries(db: Database, query: PageQuery & { completion_status?: CompletionStatus }) {
  const answer = await tracked.list(db, "series", mostComplete, query);
  return { ...answer, series: await withMissingPositions(db, answer.series) };
}

export async function getSeries(db: Database, id: number) {
  const { row, related } = await tracked.withRelated(
    db,
    id,
    db
      .select({
        id: books.id,
        title: books.title,
        // The book's place in this series (for a further series, not books.series_number).
        series_number: bookSeries.sequence,
        published_year: books.publishedYear,
        status: books.status,
      })
      .from(bookSeries)
      .innerJoin(books, eq(books.id, bookSeries.bookId))
      .where(booksOfSeries(id))
      .groupBy(books.id)
      .orderBy(sql`${bookSeries.sequence} IS NULL`, sql`cast(${bookSeries.sequence} AS REAL)`, asc(bookSeries.sequence), asc(books.title)),
  );
  const [withMissing] = await withMissingPositions(db, [seriesJson(row)]);
  return { ...withMissing!, books: related };
}

export const createSeries = (db: Database, fields: SeriesFields) => tracked.create(db, fields);
export const updateSeries = (db: Database, id: number, input: Partial<SeriesFields>) => tracked.update(db, id, input);
export const deleteSeries = (db: Database, id: number) => tracked.remove(db, id);

/** The stored completion, as last computed (no recalculation). */
export async function seriesCompletion(db: Database, id: number) {
  const row = await tracked.find(db, id);
  return {
    series_id: row.id,
    series_name: row.name,
    total_books_in_series: row.totalBooksInSeries,
    books_owned: row.booksOwned,
    books_missing: row.booksMissing,
    completion_percentage: row.completionPercentage,
    completion_status: row.completionStatus,
    last_completion_check: row.lastCompletionCheck,
  };
}

export async function recalculateSeries(db: Database, id: number) {
  const row = await tracked.recalculate(db, id);
  return {
    series_id: row.id,
    series_name: row.name,
    stats: {
      books_owned: row.booksOwned,
      books_missing: row.booksMissing,
      total_books: row.totalBooksInSeries,
      completion_percentage: row.completionPercentage,
      completion_status: row.completionStatus,
    },
    last_completion_check: row.lastCompletionCheck,
  };
}

/** Counts by status and totals over every series, in one aggregate query. */
export async function seriesCompletionSummary(db: Database) {
  const [summary] = await db
    .select({
      total_series: count(),
      ...tracked.statusCounts,
      average_completion_percentage: sql<number>`coalesce(round(avg(${series.completionPercentage}), 2), 0)`.mapWith(Number),
      total_books_owned: sql<number>`coalesce(sum(${series.booksOwned}), 0)`.mapWith(Number),
      total_books_missing: sql<number>`coalesce(sum(${series.booksMissing}), 0)`.mapWith(Number),
    })
    .from(series);
  return summary!;
}

/** Series whose stored percentage lies in [min, max], closest to complete first. */
export async function incompleteSeries(db: Database, query: { min_completion: number; max_completion: number; limit: number }) {
  const where = and(gte(series.completionPercentage, query.min_completion), lte(series.completionPercentage, query.max_completion));
  const { rows, total } = await tracked.ranked(db, where, mostComplete, query.limit);
  return { min_completion: query.min_completion, max_completion: query.max_completion, series: rows, total_incomplete: total };
}
