import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { authors, bookAuthors, bookSeries, books, type SeriesEntry, series } from "../db/schema";

/**
 * Series and author completion, as SQL that recomputes the stored counts
 * from the books themselves. Every write that can change them (a book created, updated,
 * archived, imported; a series or author created or renamed) adds these statements to its own
 * `db.batch`, so completion is never stale. Recalculation routes and scheduled tasks run the
 * same statements.
 *
 * owned = active books with their files (not files_missing) that are in the series (by the author),
 * through book_series / book_authors: every series of a book, every author of "A, B", names
 * compared trimmed and case-insensitively;
 * with a known total: missing = max(0, total - owned), percent = floor(owned / total * 100)
 * (above 100 when more are owned than known); else missing = 0 and percent = 0.
 * Status: 100 → complete, ≥ 50 → partial (so 5 of 4 stays partial, as in the original), else incomplete.
 */

// The database's clock, for last_completion_check and date_updated alike: it agrees with the rows'
// SQL defaults, where the isolate's clock stands still between I/O (a row created and recomputed in
// one batch would otherwise show date_updated before date_created).
const now = sql`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

function percent(owned: SQL, total: SQL): SQL<number> {
  return sql<number>`CASE WHEN coalesce(${total}, 0) > 0 THEN (${owned}) * 100 / ${total} ELSE 0 END`;
}

function status(pct: SQL): SQL<"complete" | "partial" | "incomplete"> {
  return sql`CASE WHEN (${pct}) = 100 THEN 'complete' WHEN (${pct}) >= 50 THEN 'partial' ELSE 'incomplete' END`;
}

function missing(owned: SQL, total: SQL): SQL<number> {
  return sql<number>`CASE WHEN coalesce(${total}, 0) > 0 THEN max(0, ${total} - (${owned})) ELSE 0 END`;
}

/** A book that counts as owned, for SQL over `books b`. */
export const OWNED = sql.raw(`b.status = 'active' AND b.files_missing = 0`);

const seriesOwned = sql`(SELECT count(DISTINCT l.book_id) FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id
  WHERE lower(l.name) = lower(${series.name}) AND ${OWNED})`;
const authorOwned = sql`(SELECT count(DISTINCT l.book_id) FROM ${bookAuthors} l JOIN ${books} b ON b.id = l.book_id
  WHERE lower(l.name) = lower(${authors.name}) AND ${OWNED})`;

/** What of a book its series and authors are counted by (a row of books, or the fields a write sets). */
export interface BookGroups {
  series?: string | null;
  additionalSeries?: readonly SeriesEntry[] | null;
  author?: string | null;
}

/** Every series a book is in: books.series, then additional_series. */
export function seriesNamesOf(book: BookGroups): string[] {
  return [book.series, ...(book.additionalSeries ?? []).map((s) => s.name)].filter((n): n is string => !!n?.trim());
}

/** The authors of "A, B", as Audiobookshelf joins them (and drizzle/0009_book_series_authors.sql splits them). */
export function authorNamesOf(author: string | null | undefined): string[] {
  return (author ?? "")
    .split(", ")
    .map((n) => n.trim())
    .filter(Boolean);
}
const seriesTotal = sql`${series.totalBooksInSeries}`;
const authorTotal = sql`${authors.totalAudiobooksExternal}`;

/**
 * `lower(column)` is one of the names, compared by SQLite's own lower() on both sides (JS
 * lower-casing differs from SQLite's for non-ASCII names). The names travel as one JSON
 * parameter, so any number of them fits in a statement.
 */
function nameIn(column: SQL, names: readonly (string | null | undefined)[]): SQL {
  const trimmed = [...new Set(names.map((n) => n?.trim()).filter((n): n is string => !!n))];
  return sql`lower(${column}) IN (SELECT lower(value) FROM json_each(${JSON.stringify(trimmed)}))`;
}

/** Recomputes the named series (every series when `names` is omitted). */
export function recomputeSeries(db: Database, names?: readonly (string | null | undefined)[]) {
  const query = db.update(series).set({
    booksOwned: sql`${seriesOwned}`,
    booksMissing: missing(seriesOwned, seriesTotal),
    completionPercentage: percent(seriesOwned, seriesTotal),
    completionStatus: status(percent(seriesOwned, seriesTotal)),
    lastCompletionCheck: now,
    dateUpdated: now,
  });
  return names === undefined ? query : query.where(nameIn(sql`${series.name}`, names));
}

/** Recomputes the named authors (every author when `names` is omitted). */
export function recomputeAuthors(db: Database, names?: readonly (string | null | undefined)[]) {
  const query = db.update(authors).set({
    audiobooksOwned: sql`${authorOwned}`,
    audiobooksMissing: missing(authorOwned, authorTotal),
    completionStatus: status(percent(authorOwned, authorTotal)),
    lastCompletionCheck: now,
    dateUpdated: now,
  });
  return names === undefined ? query : query.where(nameIn(sql`${authors.name}`, names.flatMap(authorNamesOf)));
}

/** The same percentage as SQL over the stored counts, for aggregates across authors. */
export const authorStoredPercent: SQL<number> = percent(sql`${authors.audiobooksOwned}`, authorTotal);

/** An author's percentage, which the schema does not store. */
export function authorCompletionPercent(owned: number, total: number | null): number {
  return total && total > 0 ? Math.floor((owned * 100) / total) : 0;
}
