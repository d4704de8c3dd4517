import { and, asc, count, desc, eq, gte, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type Author, authors, books } from "../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { changesOf } from "../lib/changes";
import { type PageQuery, page } from "../lib/pagination";
import { authorCompletionPercent, authorStoredPercent, recomputeAuthors } from "./completion";
import type { CompletionStatus } from "./series";

/**
 * Authors: the tracked authors and their completion (reference 2.5, 6.3), against the real
 * columns (audiobooks_owned, audiobooks_missing, total_audiobooks_external). The percentage is
 * not stored; it is derived from the stored counts when answered. Books belong to an author by
 * name, trimmed and case-insensitively; every write that can move completion recomputes it in the
 * same batch.
 */

/** Owning at least this many books makes an author a favourite in the summary (reference 6.3). */
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

function columns(fields: Partial<AuthorFields>) {
  return {
    name: fields.name,
    goodreadsId: fields.goodreads_id,
    googleBooksId: fields.google_books_id,
    hardcoverId: fields.hardcover_id,
    mamAuthorId: fields.mam_author_id,
    totalAudiobooksExternal: fields.total_audiobooks_external,
  };
}

const sameName = (name: string) => sql`lower(${authors.name}) = lower(${name})`;
const byId = (id: number) => eq(authors.id, id);
/** Books of the author with this id, matched by name as completion counts them. */
const booksOfAuthor = (id: number) =>
  sql`lower(${books.author}) = (SELECT lower(${authors.name}) FROM ${authors} WHERE ${authors.id} = ${id})`;
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

async function findAuthor(db: Database, id: number): Promise<Author> {
  const [row] = await db.select().from(authors).where(byId(id));
  if (!row) throw new NotFoundError("Author", id);
  return row;
}

/** A clear 409 before writing; the unique index still decides a race (see `guardDuplicate`). */
async function assertNameFree(db: Database, name: string, exceptId?: number): Promise<void> {
  const [clash] = await db
    .select({ id: authors.id, name: authors.name })
    .from(authors)
    .where(exceptId === undefined ? sameName(name) : and(sameName(name), ne(authors.id, exceptId)))
    .limit(1);
  if (clash) throw new ConflictError(`Author '${clash.name}' already exists`, "duplicate_resource", { author_id: clash.id });
}

async function guardDuplicate<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, "authors_name_lower_unique"))
      throw new ConflictError(`Author '${name}' already exists`, "duplicate_resource");
    throw error;
  }
}

export async function listAuthors(db: Database, query: PageQuery & { completion_status?: CompletionStatus }) {
  const where = query.completion_status ? eq(authors.completionStatus, query.completion_status) : undefined;
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(authors)
      .where(where)
      .orderBy(desc(authors.audiobooksOwned), asc(authors.name))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(authors).where(where),
  ]);
  return page("authors", rows.map(authorJson), counted?.total ?? 0, query);
}

/** The author with their active books. */
export async function getAuthor(db: Database, id: number) {
  const [[row], bookRows] = await db.batch([
    db.select().from(authors).where(byId(id)),
    db
      .select(bookFields)
      .from(books)
      .where(and(booksOfAuthor(id), eq(books.status, "active")))
      .orderBy(...bookOrder),
  ]);
  if (!row) throw new NotFoundError("Author", id);
  return { ...authorJson(row), books: bookRows };
}

/** Every book of the author, whatever its status (each says which), or those of one status. */
export async function authorBooks(db: Database, id: number, status?: (typeof books.status.enumValues)[number]) {
  const [[row], bookRows] = await db.batch([
    db.select({ id: authors.id, name: authors.name }).from(authors).where(byId(id)),
    db
      .select(bookFields)
      .from(books)
      .where(and(booksOfAuthor(id), status ? eq(books.status, status) : undefined))
      .orderBy(...bookOrder),
  ]);
  if (!row) throw new NotFoundError("Author", id);
  return { author_id: row.id, author_name: row.name, books: bookRows, total_books: bookRows.length };
}

export async function createAuthor(db: Database, fields: AuthorFields) {
  await assertNameFree(db, fields.name);
  const [, , [row]] = await guardDuplicate(fields.name, () =>
    db.batch([
      db.insert(authors).values({ ...columns(fields), name: fields.name }),
      recomputeAuthors(db, [fields.name]),
      db.select().from(authors).where(sameName(fields.name)),
    ]),
  );
  return { author_id: row!.id, ...authorJson(row!) };
}

/** Writes the fields that differ; any change recomputes completion in the same batch. */
export async function updateAuthor(db: Database, id: number, input: Partial<AuthorFields>) {
  const current = await findAuthor(db, id);
  const changes_made = changesOf(authorJson(current), { ...input });
  if (Object.keys(changes_made).length === 0) {
    return { author_id: id, changes_made, ...authorJson(current) };
  }
  const patch = Object.fromEntries(Object.entries(changes_made).map(([field, change]) => [field, change.new])) as Partial<AuthorFields>;
  const name = patch.name ?? current.name;
  if (patch.name !== undefined) await assertNameFree(db, name, id);
  const [, , [row]] = await guardDuplicate(name, () =>
    db.batch([
      db.update(authors).set(columns(patch)).where(byId(id)),
      recomputeAuthors(db, [name]),
      db.select().from(authors).where(byId(id)),
    ]),
  );
  if (!row) throw new NotFoundError("Author", id);
  return { author_id: id, changes_made, ...authorJson(row) };
}

/** Hard delete, as series; the author's gaps (missing_books) go with it by cascade. */
export async function deleteAuthor(db: Database, id: number) {
  const [row] = await db.delete(authors).where(byId(id)).returning({ name: authors.name });
  if (!row) throw new NotFoundError("Author", id);
  return { author_id: id, message: `Author '${row.name}' deleted` };
}

/** The stored completion, as last computed (no recalculation). */
export async function authorCompletion(db: Database, id: number) {
  const row = await findAuthor(db, id);
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
  const current = await findAuthor(db, id);
  const [, [row]] = await db.batch([recomputeAuthors(db, [current.name]), db.select().from(authors).where(byId(id))]);
  if (!row) throw new NotFoundError("Author", id);
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
  const where = gte(authors.audiobooksOwned, query.min_books);
  const [rows, [counted]] = await db.batch([
    db.select().from(authors).where(where).orderBy(desc(authors.audiobooksOwned), asc(authors.name)).limit(query.limit),
    db.select({ total: count() }).from(authors).where(where),
  ]);
  return { min_books: query.min_books, authors: rows.map(authorJson), total_favorites: counted?.total ?? 0 };
}

/** Counts by status and totals over every author, in one aggregate query (reference 6.3). */
export async function authorCompletionSummary(db: Database) {
  const [summary] = await db
    .select({
      total_authors: count(),
      complete: sql<number>`coalesce(sum(${authors.completionStatus} = 'complete'), 0)`.mapWith(Number),
      partial: sql<number>`coalesce(sum(${authors.completionStatus} = 'partial'), 0)`.mapWith(Number),
      incomplete: sql<number>`coalesce(sum(${authors.completionStatus} = 'incomplete'), 0)`.mapWith(Number),
      favorite_authors: sql<number>`coalesce(sum(${authors.audiobooksOwned} >= ${FAVORITE_MIN_BOOKS}), 0)`.mapWith(Number),
      average_completion_percentage: sql<number>`coalesce(round(avg(${authorStoredPercent}), 2), 0)`.mapWith(Number),
      total_audiobooks_owned: sql<number>`coalesce(sum(${authors.audiobooksOwned}), 0)`.mapWith(Number),
      total_audiobooks_missing: sql<number>`coalesce(sum(${authors.audiobooksMissing}), 0)`.mapWith(Number),
    })
    .from(authors);
  return summary!;
}
