import { and, asc, count, desc, eq, gte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type Author, authors, bookAuthors, books } from "../db/schema";
import type { PageQuery } from "../lib/pagination";
import { authorCompletionPercent, authorStoredPercent, recomputeAuthors } from "./completion";
import { type CompletionStatus, trackedNames } from "./tracked";

/**
 * Authors: the tracked authors and their completion, against the real columns (audiobooks_owned,
 * audiobooks_missing, total_audiobooks_external). The percentage is not stored; it is derived from
 * the stored counts when answered. The rules they share with series (names, lists, writes,
 * recalculation) are ./tracked.ts; here are the authors' own fields and answers.
 */

/** Owning at least this many books makes an author a favourite in the summary. */
export const FAVORITE_MIN_BOOKS = 2;

/** The writable fields, named as in the answers (the column names). */
export interface AuthorFields {
  name: string;
  goodreads_id?: string | null;
  google_books_id?: string | null;
  hardcover_id?: string | null;
  mam_author_id?: string | null;
  total_audiobooks_external?: number | null;
}

export function authorJson(row: Author) {
  return {
    id: row.id,
    name: row.name,
    goodreads_id: row.goodreadsId,
    google_books_id: row.googleBooksId,
    hardcover_id: row.hardcoverId,
    mam_author_id: row.mamAuthorId,
    total_audiobooks_external: row.totalAudiobooksExternal,
    audiobooks_owned: row.audiobooksOwned,
    audiobooks_missing: row.audiobooksMissing,
    completion_percentage: authorCompletionPercent(row.audiobooksOwned, row.totalAudiobooksExternal),
    completion_status: row.completionStatus,
    last_completion_check: row.lastCompletionCheck,
    date_created: row.dateCreated,
    date_updated: row.dateUpdated,
  };
}

const tracked = trackedNames({
  table: authors,
  label: "Author",
  idKey: "author_id",
  uniqueIndex: "authors_name_lower_unique",
  json: authorJson,
  columns: (fields: Partial<AuthorFields>) => ({
    name: fields.name,
    goodreadsId: fields.goodreads_id,
    googleBooksId: fields.google_books_id,
    hardcoverId: fields.hardcover_id,
    mamAuthorId: fields.mam_author_id,
    totalAudiobooksExternal: fields.total_audiobooks_external,
  }),
  recompute: recomputeAuthors,
});

/** Most books owned first, then by name. */
const mostOwned = [desc(authors.audiobooksOwned), asc(authors.name)];

/** Books of the author with this id, alone or with others ("A, B": book_authors), matched by name as completion counts them. */
const booksOfAuthor = (id: number) =>
  sql`${books.id} IN (SELECT ${bookAuthors.bookId} FROM ${bookAuthors} WHERE lower(${bookAuthors.name}) = (SELECT lower(${authors.name}) FROM ${authors} WHERE ${authors.id} = ${id}))`;
const bookFields = {
  id: books.id,
  title: books.title,
  series: books.series,
  series_number: books.seriesNumber,
  published_year: books.publishedYear,
  status: books.status,
};
const bookOrder = [
  sql`${books.series} IS NULL`,
  asc(books.series),
  sql`cast(${books.seriesNumber} AS REAL)`,
  asc(books.seriesNumber),
  asc(books.title),
] as const;

export function listAuthors(db: Database, query: PageQuery & { completion_status?: CompletionStatus }) {
  return tracked.list(db, "authors", mostOwned, query);
}

/** The author with their active books. */
export async function getAuthor(db: Database, id: number) {
  const { row, related } = await tracked.withRelated(
    db,
    id,
    db
      .select(bookFields)
      .from(books)
      .where(and(booksOfAuthor(id), eq(books.status, "active")))
      .orderBy(...bookOrder),
  );
  return { ...authorJson(row), books: related };
}

/** Every book of the author, whatever its status (each says which), or those of one status. */
export async function authorBooks(db: Database, id: number, status?: (typeof books.status.enumValues)[number]) {
  const { row, related } = await tracked.withRelated(
    db,
    id,
    db
      .select(bookFields)
      .from(books)
      .where(and(booksOfAuthor(id), status ? eq(books.status, status) : undefined))
      .orderBy(...bookOrder),
  );
  return { author_id: row.id, author_name: row.name, books: related, total_books: related.length };
}

export const createAuthor = (db: Database, fields: AuthorFields) => tracked.create(db, fields);
export const updateAuthor = (db: Database, id: number, input: Partial<AuthorFields>) => tracked.update(db, id, input);
export const deleteAuthor = (db: Database, id: number) => tracked.remove(db, id);

/** The stored completion, as last computed (no recalculation). */
export async function authorCompletion(db: Database, id: number) {
  const row = await tracked.find(db, id);
  return {
    author_id: row.id,
    author_name: row.name,
    total_audiobooks_external: row.totalAudiobooksExternal,
    audiobooks_owned: row.audiobooksOwned,
    audiobooks_missing: row.audiobooksMissing,
    completion_percentage: authorCompletionPercent(row.audiobooksOwned, row.totalAudiobooksExternal),
    completion_status: row.completionStatus,
    last_completion_check: row.lastCompletionCheck,
  };
}

export async function recalculateAuthor(db: Database, id: number) {
  const row = await tracked.recalculate(db, id);
  return {
    author_id: row.id,
    author_name: row.name,
    stats: {
      audiobooks_owned: row.audiobooksOwned,
      audiobooks_missing: row.audiobooksMissing,
      total_audiobooks_external: row.totalAudiobooksExternal,
      completion_percentage: authorCompletionPercent(row.audiobooksOwned, row.totalAudiobooksExternal),
      completion_status: row.completionStatus,
    },
    last_completion_check: row.lastCompletionCheck,
  };
}

/** Authors owning at least `min_books` active books, most owned first. */
export async function favoriteAuthors(db: Database, query: { min_books: number; limit: number }) {
  const { rows, total } = await tracked.ranked(db, gte(authors.audiobooksOwned, query.min_books), mostOwned, query.limit);
  return { min_books: query.min_books, authors: rows, total_favorites: total };
}

/** Counts by status and totals over every author, in one aggregate query. */
export async function authorCompletionSummary(db: Database) {
  const [summary] = await db
    .select({
      total_authors: count(),
      ...tracked.statusCounts,
      favorite_authors: sql<number>`coalesce(sum(${authors.audiobooksOwned} >= ${FAVORITE_MIN_BOOKS}), 0)`.mapWith(Number),
      average_completion_percentage: sql<number>`coalesce(round(avg(${authorStoredPercent}), 2), 0)`.mapWith(Number),
      total_audiobooks_owned: sql<number>`coalesce(sum(${authors.audiobooksOwned}), 0)`.mapWith(Number),
      total_audiobooks_missing: sql<number>`coalesce(sum(${authors.audiobooksMissing}), 0)`.mapWith(Number),
    })
    .from(authors);
  return summary!;
}
