import { and, asc, count, desc, eq, gte, lte, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { books, type COMPLETION_STATUSES, type Series, series } from "../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { changesOf } from "../lib/changes";
import { type PageQuery, page } from "../lib/pagination";
import { recomputeSeries } from "./completion";

/**
 * Series: the tracked series and their completion (reference 2.4, 6.2). Books belong to a series
 * by name, trimmed and case-insensitively, so names are unique that way too. Every write that can
 * move the completion recomputes it in the same batch (one D1 transaction): it is never stale.
 */

export type CompletionStatus = (typeof COMPLETION_STATUSES)[number];

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
    books_owned: row.booksOwned,
    books_missing: row.booksMissing,
    completion_percentage: row.completionPercentage,
    completion_status: row.completionStatus,
    last_completion_check: row.lastCompletionCheck,
    date_created: row.dateCreated,
    date_updated: row.dateUpdated,
  };
}

function columns(fields: Partial<SeriesFields>) {
  return {
    name: fields.name,
    author: fields.author,
    goodreadsId: fields.goodreads_id,
    hardcoverId: fields.hardcover_id,
    totalBooksInSeries: fields.total_books_in_series,
  };
}

const sameName = (name: string) => sql`lower(${series.name}) = lower(${name})`;
const byId = (id: number) => eq(series.id, id);
/** Active books of the series with this id, matched by name as completion counts them. */
const booksOfSeries = (id: number) =>
  and(sql`lower(${books.series}) = (SELECT lower(${series.name}) FROM ${series} WHERE ${series.id} = ${id})`, eq(books.status, "active"));

async function findSeries(db: Database, id: number): Promise<Series> {
  const [row] = await db.select().from(series).where(byId(id));
  if (!row) throw new NotFoundError("Series", id);
  return row;
}

/** A clear 409 before writing; the unique index still decides a race (see `guardDuplicate`). */
async function assertNameFree(db: Database, name: string, exceptId?: number): Promise<void> {
  const [clash] = await db
    .select({ id: series.id, name: series.name })
    .from(series)
    .where(exceptId === undefined ? sameName(name) : and(sameName(name), ne(series.id, exceptId)))
    .limit(1);
  if (clash) throw new ConflictError(`Series '${clash.name}' already exists`, "duplicate_resource", { series_id: clash.id });
}

async function guardDuplicate<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, "series_name_lower_unique"))
      throw new ConflictError(`Series '${name}' already exists`, "duplicate_resource");
    throw error;
  }
}

export async function listSeries(db: Database, query: PageQuery & { completion_status?: CompletionStatus }) {
  const where = query.completion_status ? eq(series.completionStatus, query.completion_status) : undefined;
  const [rows, [counted]] = await db.batch([
    db
      .select()
      .from(series)
      .where(where)
      .orderBy(desc(series.completionPercentage), asc(series.name))
      .limit(query.limit)
      .offset(query.offset),
    db.select({ total: count() }).from(series).where(where),
  ]);
  return page("series", rows.map(seriesJson), counted?.total ?? 0, query);
}

export async function getSeries(db: Database, id: number) {
  const [[row], bookRows] = await db.batch([
    db.select().from(series).where(byId(id)),
    db
      .select({
        id: books.id,
        title: books.title,
        series_number: books.seriesNumber,
        published_year: books.publishedYear,
        status: books.status,
      })
      .from(books)
      .where(booksOfSeries(id))
      .orderBy(sql`${books.seriesNumber} IS NULL`, sql`cast(${books.seriesNumber} AS REAL)`, asc(books.seriesNumber), asc(books.title)),
  ]);
  if (!row) throw new NotFoundError("Series", id);
  return { ...seriesJson(row), books: bookRows };
}

export async function createSeries(db: Database, fields: SeriesFields) {
  await assertNameFree(db, fields.name);
  const [, , [row]] = await guardDuplicate(fields.name, () =>
    db.batch([
      db.insert(series).values({ ...columns(fields), name: fields.name }),
      recomputeSeries(db, [fields.name]),
      db.select().from(series).where(sameName(fields.name)),
    ]),
  );
  return { series_id: row!.id, ...seriesJson(row!) };
}

/** Writes the fields that differ; any change recomputes completion in the same batch. */
export async function updateSeries(db: Database, id: number, input: Partial<SeriesFields>) {
  const current = await findSeries(db, id);
  const changes_made = changesOf(seriesJson(current), { ...input });
  if (Object.keys(changes_made).length === 0) {
    return { series_id: id, changes_made, ...seriesJson(current) };
  }
  const patch = Object.fromEntries(Object.entries(changes_made).map(([field, change]) => [field, change.new])) as Partial<SeriesFields>;
  const name = patch.name ?? current.name;
  if (patch.name !== undefined) await assertNameFree(db, name, id);
  const [, , [row]] = await guardDuplicate(name, () =>
    db.batch([
      db.update(series).set(columns(patch)).where(byId(id)),
      recomputeSeries(db, [name]),
      db.select().from(series).where(byId(id)),
    ]),
  );
  if (!row) throw new NotFoundError("Series", id);
  return { series_id: id, changes_made, ...seriesJson(row) };
}

/** Hard delete, as the original; the series' gaps (missing_books) go with it by cascade. */
export async function deleteSeries(db: Database, id: number) {
  const [row] = await db.delete(series).where(byId(id)).returning({ name: series.name });
  if (!row) throw new NotFoundError("Series", id);
  return { series_id: id, message: `Series '${row.name}' deleted` };
}

/** The stored completion, as last computed (no recalculation). */
export async function seriesCompletion(db: Database, id: number) {
  return completionOf(await findSeries(db, id));
}

function completionOf(row: Series) {
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
  const current = await findSeries(db, id);
  const [, [row]] = await db.batch([recomputeSeries(db, [current.name]), db.select().from(series).where(byId(id))]);
  if (!row) throw new NotFoundError("Series", id);
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

/** Counts by status and totals over every series, in one aggregate query (reference 6.2). */
export async function seriesCompletionSummary(db: Database) {
  const [summary] = await db
    .select({
      total_series: count(),
      complete: sql<number>`coalesce(sum(${series.completionStatus} = 'complete'), 0)`.mapWith(Number),
      partial: sql<number>`coalesce(sum(${series.completionStatus} = 'partial'), 0)`.mapWith(Number),
      incomplete: sql<number>`coalesce(sum(${series.completionStatus} = 'incomplete'), 0)`.mapWith(Number),
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
  const [rows, [counted]] = await db.batch([
    db.select().from(series).where(where).orderBy(desc(series.completionPercentage), asc(series.name)).limit(query.limit),
    db.select({ total: count() }).from(series).where(where),
  ]);
  return {
    min_completion: query.min_completion,
    max_completion: query.max_completion,
    series: rows.map(seriesJson),
    total_incomplete: counted?.total ?? 0,
  };
}
