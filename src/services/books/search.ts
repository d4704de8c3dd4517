import { and, asc, count, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import { integer, type SQLiteColumn, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/client";
import { bookSeries, books } from "../../db/schema";
import { NotFoundError } from "../../errors";
import { type PageQuery, page } from "../../lib/pagination";
import { correctionHistoryJson, correctionHistoryQueries } from "../metadata";
import type { BookStatus } from "./fields";
import { bookJson, bookSummaryJson, incompleteBookJson, summaryColumns } from "./json";

// The reads: lists, search, one book, a series' books, a book's correction history.

const SEARCH_COLUMNS = [books.title, books.author, books.series, books.narrator, books.isbn, books.asin];
/** The trigram tokenizer indexes runs of 3 characters; shorter terms cannot use the index. */
const TRIGRAM = 3;

/**
 * The FTS5 index of the searched columns (drizzle/0001_books_search.sql), kept in step with
 * `books` by triggers. Declared here, not in src/db/schema/: drizzle-kit has no virtual
 * tables, and its migration is written by hand.
 */
const booksFts = sqliteTable("books_fts", { rowid: integer("rowid").notNull() });

/**
 * Books per status (drizzle/0004_book_counts.sql), kept exact by triggers on `books`: the total of
 * an unfiltered list in one row, where counting would read an index entry per book.
 */
const bookCounts = sqliteTable("book_counts", { status: text("status").notNull(), n: integer("n").notNull() });

/** An FTS5 query for `term` as one literal phrase, optionally in some columns only. */
function ftsPhrase(term: string, columns?: string[]): string {
  const phrase = `"${term.replaceAll('"', '""')}"`;
  return columns ? `{${columns.join(" ")}} : ${phrase}` : phrase;
}

/** Whether `term` is long enough for the trigram index. */
function indexable(term: string): boolean {
  return [...term].length >= TRIGRAM;
}

/** `columns` containing `term` by LIKE, case-insensitively: for terms too short for the index. */
function likeAny(term: string, columns: SQLiteColumn[]): SQL {
  const pattern = `%${term.replace(/[\\%_]/g, "\\$&")}%`;
  return or(...columns.map((col) => sql`${col} LIKE ${pattern} ESCAPE '\\'`))!;
}

/**
 * 0 when a searched field equals the term, 1 when one starts with it, else 2; compared
 * case-insensitively with NOCASE (ASCII case folding, as the LIKE fallback), which needs no
 * lower() copy of each column: the rank is computed for every match, so it must be cheap.
 */
function rankOf(term: string): SQL<number> {
  const exact = or(...SEARCH_COLUMNS.map((col) => sql`${col} = ${term} COLLATE NOCASE`));
  const prefix = or(...SEARCH_COLUMNS.map((col) => sql`substr(${col}, 1, ${[...term].length}) = ${term} COLLATE NOCASE`));
  return sql<number>`CASE WHEN ${exact} THEN 0 WHEN ${prefix} THEN 1 ELSE 2 END`;
}

export interface BookListQuery extends PageQuery {
  status: BookStatus | "all";
  search?: string | undefined;
  series?: string | undefined;
  author?: string | undefined;
  missing_metadata?: boolean | undefined;
  missing_files?: boolean | undefined;
}

/** The list's filters besides the status: a text in title or author, a series, an author, completeness. */
function listFilters(query: BookListQuery): SQL | undefined {
  const text =
    query.search === undefined
      ? undefined
      : indexable(query.search)
        ? sql`${books.id} IN (SELECT rowid FROM ${booksFts} WHERE ${booksFts} MATCH ${ftsPhrase(query.search, ["title", "author"])})`
        : likeAny(query.search, [books.title, books.author]);
  const conditions = [
    text,
    // lower(): the case-insensitive indexes the completion counts use (books_series_lower_status_idx).
    query.series === undefined ? undefined : sql`lower(${books.series}) = lower(${query.series})`,
    query.author === undefined ? undefined : sql`lower(${books.author}) = lower(${query.author})`,
    query.missing_metadata === undefined
      ? undefined
      : query.missing_metadata
        ? lt(books.metadataCompletenessPercent, 100)
        : eq(books.metadataCompletenessPercent, 100),
    query.missing_files === undefined ? undefined : eq(books.filesMissing, query.missing_files),
  ].filter((condition) => condition !== undefined);
  return conditions.length > 0 ? and(...conditions) : undefined;
}

/** Books newest first; `status=all` for every status; filtered by text, series, author or completeness. */
export async function listBooks(db: Database, query: BookListQuery) {
  const status = query.status === "all" ? undefined : eq(books.status, query.status);
  const matches = listFilters(query);
  // The page walks the status and date index newest first and stops when the page is full. The
  // total of an unfiltered list is kept per status; with a search it counts the matches, starting
  // from them (`+status` keeps SQLite off the status index, which would test every book of that
  // status against the search).
  const total =
    matches === undefined
      ? db
          .select({ n: sql<number>`coalesce(sum(${bookCounts.n}), 0)`.mapWith(Number) })
          .from(bookCounts)
          .where(query.status === "all" ? undefined : eq(bookCounts.status, query.status))
      : db
          .select({ n: count() })
          .from(books)
          .where(and(status && sql`+${books.status} = ${query.status}`, matches));
  const [rows, [counted]] = await db.batch([
    db
      .select(summaryColumns)
      .from(books)
      .where(and(status, matches))
      .orderBy(desc(books.dateAdded), desc(books.id))
      .limit(query.limit)
      .offset(query.offset),
    total,
  ]);
  return page("books", rows.map(bookSummaryJson), counted?.n ?? 0, query);
}

export async function getBook(db: Database, id: number) {
  const row = await db.select().from(books).where(eq(books.id, id)).get();
  if (!row) throw new NotFoundError("Book", id);
  return bookJson(row);
}

/**
 * Active books matching `query` in title, author, series, narrator, ISBN or ASIN: exact matches
 * first, then prefix matches, then the rest (each by title). `total_results` counts every match.
 */
export async function searchBooks(db: Database, query: string, limit: number, offset = 0) {
  const order = [rankOf(query), sql`${books.title} COLLATE NOCASE`, books.id];
  // Ranking a page reads every match anyway; counting them in that same pass (a window over all
  // matches, computed before LIMIT) spares a second match and join: about a third of a search's
  // database time at 100,000 books.
  const ranked = { ...summaryColumns, total: sql<number>`count(*) OVER ()`.mapWith(Number) };
  const rows = indexable(query)
    ? // Joined from the FTS side, so SQLite starts from the matches rather than every active book.
      await db
        .select(ranked)
        .from(booksFts)
        .innerJoin(books, eq(books.id, booksFts.rowid))
        .where(and(sql`${booksFts} MATCH ${ftsPhrase(query)}`, eq(books.status, "active")))
        .orderBy(...order)
        .limit(limit)
        .offset(offset)
    : // Too short for the index: LIKE over the table. `+status` keeps SQLite off the status index,
      // which would fetch nearly every row by a separate lookup instead of reading the table in order.
      await db
        .select(ranked)
        .from(books)
        .where(and(likeAny(query, SEARCH_COLUMNS), sql`+${books.status} = 'active'`))
        .orderBy(...order)
        .limit(limit)
        .offset(offset);
  return { query, books: rows.map(bookSummaryJson), total_results: rows[0]?.total ?? 0 };
}

/** Active books below `threshold` percent complete, least complete first. */
export async function incompleteBooks(db: Database, threshold: number, limit: number) {
  const where = and(eq(books.status, "active"), lt(books.metadataCompletenessPercent, threshold));
  const [rows, [total]] = await db.batch([
    db.select(summaryColumns).from(books).where(where).orderBy(asc(books.metadataCompletenessPercent), asc(books.id)).limit(limit),
    db.select({ n: count() }).from(books).where(where),
  ]);
  return { threshold, books: rows.map(incompleteBookJson), total_incomplete: total?.n ?? 0 };
}

/** Numeric series numbers first, in numeric order ("2" before "10", "1.5" between); the rest by text. */
const seriesOrder = [
  sql`${books.seriesNumber} IS NULL`,
  sql`CASE WHEN ${books.seriesNumber} GLOB '[0-9]*' OR ${books.seriesNumber} GLOB '.[0-9]*' THEN 0 ELSE 1 END`,
  sql`CAST(${books.seriesNumber} AS REAL)`,
  sql`${books.seriesNumber} COLLATE NOCASE`,
  books.id,
];

/** The active books in a series, as any of their series (book_series), matched by name case-insensitively. */
export async function booksInSeries(db: Database, name: string) {
  const rows = await db
    .select(summaryColumns)
    .from(books)
    .where(
      and(
        sql`${books.id} IN (SELECT ${bookSeries.bookId} FROM ${bookSeries} WHERE lower(${bookSeries.name}) = lower(trim(${name})))`,
        eq(books.status, "active"),
      ),
    )
    .orderBy(...seriesOrder);
  return { series_name: name, books: rows.map(bookSummaryJson), total_books: rows.length };
}

/** A book's metadata corrections, newest first (at most 50). */
export async function bookMetadataHistory(db: Database, id: number) {
  // One round trip: the book and its history together (an unknown book simply has no history).
  const [[book], rows, [total]] = await db.batch([
    db.select({ title: books.title }).from(books).where(eq(books.id, id)),
    ...correctionHistoryQueries(db, id),
  ]);
  if (!book) throw new NotFoundError("Book", id);
  return { book_id: id, book_title: book.title, ...correctionHistoryJson(rows, total) };
}
