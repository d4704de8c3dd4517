import { and, asc, count, desc, eq, getTableColumns, lt, or, type SQL, sql } from "drizzle-orm";
import { integer, type SQLiteColumn, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { chunk, rowsPerInsert, runBatch, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import { type BOOK_STATUSES, type Book, books, type NewBook, type NewMetadataCorrection } from "../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { type Changes, changesOf } from "../lib/changes";
import { type PageQuery, page } from "../lib/pagination";
import { recomputeAuthors, recomputeSeries } from "./completion";
import { type CorrectionSource, correctionHistoryJson, correctionHistoryQueries, correctionText, insertCorrections } from "./metadata";

// ---------------------------------------------------------------------------------------------
// Fields and metadata completeness (reference 6.1)
// ---------------------------------------------------------------------------------------------

/** The fields metadata completeness counts, as callers name them. */
export const METADATA_FIELDS = [
  "title",
  "author",
  "series",
  "series_number",
  "isbn",
  "asin",
  "publisher",
  "published_year",
  "duration_minutes",
  "description",
] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

/** Every writable field: its name in requests and answers → its column in the schema. */
const COLUMN_OF = {
  title: "title",
  author: "author",
  series: "series",
  series_number: "seriesNumber",
  isbn: "isbn",
  asin: "asin",
  publisher: "publisher",
  published_year: "publishedYear",
  duration_minutes: "durationMinutes",
  description: "description",
  narrator: "narrator",
  abs_id: "absId",
  import_source: "importSource",
  metadata_source: "metadataSource",
  status: "status",
} as const satisfies Record<string, keyof Book>;
type Field = keyof typeof COLUMN_OF;
export type BookStatus = (typeof BOOK_STATUSES)[number];

/** Fields whose changes are recorded in metadata_corrections: the described fields, not bookkeeping. */
const CORRECTED_FIELDS: readonly Field[] = [...METADATA_FIELDS, "narrator"];

type MetadataValues = { [F in MetadataField as (typeof COLUMN_OF)[F]]?: unknown };

function isFilled(value: unknown): boolean {
  return value !== null && value !== undefined && String(value).trim() !== "";
}

/** The metadata fields without a value. */
export function missingFieldsOf(book: MetadataValues): MetadataField[] {
  return METADATA_FIELDS.filter((field) => !isFilled(book[COLUMN_OF[field]]));
}

/** Filled metadata fields of 10, as a floored percentage. */
export function completenessOf(book: MetadataValues): number {
  const filled = METADATA_FIELDS.length - missingFieldsOf(book).length;
  return Math.floor((filled * 100) / METADATA_FIELDS.length);
}

// ---------------------------------------------------------------------------------------------
// Inputs (validated by the route schemas) and answers
// ---------------------------------------------------------------------------------------------

/** Described fields as sent: absent = not sent, null = no value. */
export interface BookFields {
  title?: string;
  author?: string | null;
  series?: string | null;
  series_number?: string | null;
  isbn?: string | null;
  asin?: string | null;
  publisher?: string | null;
  published_year?: number | null;
  duration_minutes?: number | null;
  description?: string | null;
  narrator?: string | null;
}

export interface BookCreateInput extends BookFields {
  title: string;
  abs_id?: string | null;
  import_source?: string | null;
  metadata_source?: Record<string, string> | null;
}

export interface BookImportRow extends BookCreateInput {
  abs_id: string;
}

export interface BookUpdateInput extends BookFields {
  status?: BookStatus;
  correction_source?: CorrectionSource;
  correction_reason?: string | null;
}

/** A book with every field. */
export function bookJson(row: Book) {
  return {
    id: row.id,
    abs_id: row.absId,
    title: row.title,
    author: row.author,
    series: row.series,
    series_number: row.seriesNumber,
    narrator: row.narrator,
    isbn: row.isbn,
    asin: row.asin,
    publisher: row.publisher,
    published_year: row.publishedYear,
    duration_minutes: row.durationMinutes,
    description: row.description,
    metadata_completeness_percent: row.metadataCompletenessPercent,
    last_metadata_update: row.lastMetadataUpdate,
    metadata_source: row.metadataSource,
    date_added: row.dateAdded,
    date_updated: row.dateUpdated,
    import_source: row.importSource,
    status: row.status,
    quality_score: row.qualityScore,
    mam_rule_version: row.mamRuleVersion,
    duplicate_status: row.duplicateStatus,
  };
}

// Lists read every column but the description (up to 20,000 characters), and only whether it is set.
const { description: _description, ...listedColumns } = getTableColumns(books);
const summaryColumns = {
  ...listedColumns,
  hasDescription: sql<boolean>`coalesce(trim(${books.description}) <> '', 0)`.mapWith(Boolean),
};
type SummaryRow = Omit<Book, "description"> & { hasDescription: boolean };

/** A book in a list (list, search, series). */
export function bookSummaryJson(row: SummaryRow) {
  return {
    id: row.id,
    abs_id: row.absId,
    title: row.title,
    author: row.author,
    series: row.series,
    series_number: row.seriesNumber,
    narrator: row.narrator,
    published_year: row.publishedYear,
    metadata_completeness_percent: row.metadataCompletenessPercent,
    last_metadata_update: row.lastMetadataUpdate,
    status: row.status,
    date_added: row.dateAdded,
  };
}

/** A book in the incomplete-metadata lists: what is missing and where the rest came from. */
export function incompleteBookJson(row: SummaryRow) {
  const missing = missingFieldsOf({ ...row, description: row.hasDescription ? "set" : null });
  return {
    ...bookSummaryJson(row),
    missing_fields: missing.filter((field) => field !== "title"),
    metadata_source: row.metadataSource,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared pieces of the writes
// ---------------------------------------------------------------------------------------------

/** The columns of the fields present in `input`. */
function columnsOf(input: Partial<Record<Field, unknown>>): Partial<NewBook> {
  const values: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(COLUMN_OF)) {
    const value = input[field as Field];
    if (value !== undefined) values[column] = value;
  }
  return values as Partial<NewBook>;
}

/**
 * The series and author completion recomputes for a write that touched these names (old and
 * new), to run in the write's own batch so completion is never stale.
 */
function completionStatements(
  db: Database,
  seriesNames: (string | null | undefined)[],
  authorNames: (string | null | undefined)[],
): Statement[] {
  return [recomputeSeries(db, seriesNames), recomputeAuthors(db, authorNames)];
}

/** One metadata_corrections row per changed described field (status and bookkeeping fields have none). */
function correctionRows(
  bookId: number,
  changes: Changes,
  by: Pick<NewMetadataCorrection, "source" | "reason" | "correctedBy" | "correctionDate">,
): NewMetadataCorrection[] {
  return Object.entries(changes)
    .filter(([field]) => CORRECTED_FIELDS.includes(field as Field))
    .map(([field, change]) => ({
      ...by,
      bookId,
      fieldName: field,
      oldValue: correctionText(change.old),
      newValue: correctionText(change.new),
    }));
}

/** Whether a change can move series or author counts. */
function touchesCompletion(changes: Changes): boolean {
  return "series" in changes || "author" in changes || "status" in changes;
}

function duplicateAbsId(absId: string): ConflictError {
  return new ConflictError(`Book with abs_id ${absId} already exists`, "duplicate_resource", { abs_id: absId });
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

const SEARCH_COLUMNS = [books.title, books.author, books.series, books.narrator, books.isbn, books.asin];
/** The trigram tokenizer indexes runs of 3 characters; shorter terms cannot use the index. */
const TRIGRAM = 3;

/**
 * The FTS5 index of the searched columns (drizzle/0001_books_search.sql), kept in step with
 * `books` by triggers. Declared here, not in src/db/schema.ts: drizzle-kit has no virtual
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
}

/** Books newest first; `status=all` for every status, `search` in title or author. */
export async function listBooks(db: Database, query: BookListQuery) {
  const status = query.status === "all" ? undefined : eq(books.status, query.status);
  const matches =
    query.search === undefined
      ? undefined
      : indexable(query.search)
        ? sql`${books.id} IN (SELECT rowid FROM ${booksFts} WHERE ${booksFts} MATCH ${ftsPhrase(query.search, ["title", "author"])})`
        : likeAny(query.search, [books.title, books.author]);
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
export async function searchBooks(db: Database, query: string, limit: number) {
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
    : // Too short for the index: LIKE over the table. `+status` keeps SQLite off the status index,
      // which would fetch nearly every row by a separate lookup instead of reading the table in order.
      await db
        .select(ranked)
        .from(books)
        .where(and(likeAny(query, SEARCH_COLUMNS), sql`+${books.status} = 'active'`))
        .orderBy(...order)
        .limit(limit);
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

/** The active books of a series, matched by name case-insensitively. */
export async function booksInSeries(db: Database, name: string) {
  const rows = await db
    .select(summaryColumns)
    .from(books)
    .where(and(sql`lower(${books.series}) = lower(${name})`, eq(books.status, "active")))
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

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/** Creates a book; a taken `abs_id` is a 409. */
export async function createBook(db: Database, input: BookCreateInput) {
  const now = new Date().toISOString();
  const values: NewBook = {
    ...columnsOf(input),
    title: input.title,
    metadataSource: input.metadata_source ?? {},
    dateAdded: now,
    dateUpdated: now,
    lastMetadataUpdate: now,
  };
  values.metadataCompletenessPercent = completenessOf(values);

  if (values.absId) {
    const taken = await db.select({ id: books.id }).from(books).where(eq(books.absId, values.absId)).get();
    if (taken) throw duplicateAbsId(values.absId);
  }
  let row: Book | undefined;
  try {
    [[row]] = await db.batch([db.insert(books).values(values).returning(), ...completionStatements(db, [values.series], [values.author])]);
  } catch (error) {
    // Taken between the check and the insert.
    if (values.absId && isUniqueViolation(error, "books.abs_id")) throw duplicateAbsId(values.absId);
    throw error;
  }
  if (!row) throw new Error("INSERT ... RETURNING answered no row");
  return { book_id: row.id, title: row.title, author: row.author, metadata_completeness_percent: row.metadataCompletenessPercent };
}

/**
 * Applies the fields sent. Only fields whose value differs count as changes; each changed
 * described field is recorded in metadata_corrections, in the same batch as the update.
 * `sources` (field → source) is merged into metadata_source by the same UPDATE.
 */
export async function updateBook(
  db: Database,
  id: number,
  input: BookUpdateInput,
  actor: string,
  { sources }: { sources?: Record<string, string> } = {},
) {
  const { correction_source: source = "Manual", correction_reason: reason = null, ...fields } = input;
  const current = await db.select().from(books).where(eq(books.id, id)).get();
  if (!current) throw new NotFoundError("Book", id);

  const changes = changesOf(bookJson(current), fields as Record<string, unknown>);
  if (Object.keys(changes).length === 0) {
    return { book_id: id, changes_made: changes, metadata_completeness_percent: current.metadataCompletenessPercent };
  }

  const now = new Date().toISOString();
  const set = columnsOf(Object.fromEntries(Object.entries(changes).map(([field, change]) => [field, change.new])));
  const corrections = correctionRows(id, changes, { source, reason, correctedBy: actor, correctionDate: now });

  const [[updated]] = await db.batch([
    db
      .update(books)
      .set({
        ...set,
        ...(sources ? { metadataSource: sql`json_patch(coalesce(${books.metadataSource}, '{}'), ${JSON.stringify(sources)})` } : {}),
        metadataCompletenessPercent: completenessAfter(set),
        lastMetadataUpdate: now,
        dateUpdated: now,
      })
      .where(eq(books.id, id))
      .returning({ pct: books.metadataCompletenessPercent }),
    ...insertCorrections(db, corrections),
    ...(touchesCompletion(changes) ? completionStatements(db, [current.series, set.series], [current.author, set.author]) : []),
  ]);
  if (!updated) throw new NotFoundError("Book", id);
  return { book_id: id, changes_made: changes, metadata_completeness_percent: updated.pct };
}

/**
 * `completenessOf` the row an UPDATE setting `set` leaves behind, as SQL: the fields it sets count
 * with their new values, the others as stored when the statement runs, not as read before it. So
 * concurrent updates of different fields add up, instead of the last one writing a percentage
 * computed from a row that no longer exists.
 */
function completenessAfter(set: Partial<NewBook>): SQL<number> {
  const filled = METADATA_FIELDS.map((field) => {
    const column = COLUMN_OF[field];
    return column in set ? sql.raw(isFilled(set[column]) ? "1" : "0") : sql`coalesce(trim(${books[column]}) <> '', 0)`;
  });
  return sql<number>`(${sql.join(filled, sql` + `)}) * 100 / ${sql.raw(String(METADATA_FIELDS.length))}`;
}

/** Soft delete: the book stays, with status `archived`, and stops counting towards completion. */
export async function archiveBook(db: Database, id: number) {
  const current = await db
    .select({ title: books.title, series: books.series, author: books.author, status: books.status })
    .from(books)
    .where(eq(books.id, id))
    .get();
  if (!current) throw new NotFoundError("Book", id);
  if (current.status !== "archived") {
    await runBatch(db, [
      db.update(books).set({ status: "archived", dateUpdated: new Date().toISOString() }).where(eq(books.id, id)),
      ...completionStatements(db, [current.series], [current.author]),
    ]);
  }
  return { book_id: id, status: "archived" as const, message: `Book '${current.title}' marked as archived` };
}

/** Records which source supplied a field: `metadata_source[field] = source`. */
export async function setMetadataSource(db: Database, id: number, field: MetadataField, source: string) {
  const now = new Date().toISOString();
  const [row] = await db
    .update(books)
    // json_set on the stored map: concurrent calls for different fields do not overwrite each other.
    .set({
      metadataSource: sql`json_set(coalesce(${books.metadataSource}, '{}'), ${`$.${field}`}, ${source})`,
      lastMetadataUpdate: now,
      dateUpdated: now,
    })
    .where(eq(books.id, id))
    .returning({ metadataSource: books.metadataSource });
  if (!row) throw new NotFoundError("Book", id);
  return { book_id: id, field_name: field, source, metadata_source: row.metadataSource };
}

// ---------------------------------------------------------------------------------------------
// Bulk import
// ---------------------------------------------------------------------------------------------

/** Columns an import refreshes on a book that exists (never its id, date_added or status). */
const IMPORT_UPDATE_SET = Object.fromEntries(
  (
    [
      "title",
      "author",
      "series",
      "seriesNumber",
      "isbn",
      "asin",
      "publisher",
      "publishedYear",
      "durationMinutes",
      "description",
      "narrator",
      "importSource",
      "metadataSource",
      "metadataCompletenessPercent",
      "lastMetadataUpdate",
      "dateUpdated",
    ] as const
  ).map((key) => [key, sql.raw(`excluded.${books[key].name}`)]),
);

/**
 * Upserts books by `abs_id`, all or nothing. New abs_ids are created; on a known one the fields
 * sent replace the stored ones (absent fields are kept, metadata_source is merged), and a row
 * that changes nothing is counted `unchanged` and not written. One D1 batch (one transaction)
 * holds the upserts, a correction row per changed described field ("Auto-corrected", with
 * `reason`, "bulk import" by default), and the completion recomputes of every series and author
 * touched. When every row is unchanged, nothing is sent.
 */
export async function importBooks(db: Database, rows: readonly BookImportRow[], actor: string, { reason = "bulk import" } = {}) {
  const now = new Date().toISOString();
  // One bound parameter for every abs_id (D1 allows 100 per statement): a JSON array.
  const existing = await db
    .select()
    .from(books)
    .where(sql`${books.absId} IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.abs_id))}))`);
  const byAbsId = new Map(existing.map((book) => [book.absId, book]));

  const writes: NewBook[] = [];
  const corrections: NewMetadataCorrection[] = [];
  const seriesNames: (string | null | undefined)[] = [];
  const authorNames: (string | null | undefined)[] = [];
  let created = 0;
  let updated = 0;

  for (const row of rows) {
    const current = byAbsId.get(row.abs_id);
    const { metadata_source: sources, ...fields } = row;
    if (!current) {
      const values: NewBook = {
        ...columnsOf(fields),
        title: row.title,
        metadataSource: sources ?? {},
        dateAdded: now,
        dateUpdated: now,
        lastMetadataUpdate: now,
      };
      values.metadataCompletenessPercent = completenessOf(values);
      writes.push(values);
      seriesNames.push(values.series);
      authorNames.push(values.author);
      created++;
      continue;
    }

    const changes = changesOf(bookJson(current), fields as Record<string, unknown>);
    const mergedSources = { ...current.metadataSource, ...sources };
    const sourcesChanged = JSON.stringify(mergedSources) !== JSON.stringify(current.metadataSource);
    if (Object.keys(changes).length === 0 && !sourcesChanged) continue;

    // Without the id: the upsert finds the row by abs_id.
    const { id: _id, ...kept } = current;
    const merged = { ...kept, ...columnsOf(fields), metadataSource: mergedSources };
    writes.push({ ...merged, metadataCompletenessPercent: completenessOf(merged), lastMetadataUpdate: now, dateUpdated: now });
    corrections.push(...correctionRows(current.id, changes, { source: "Auto-corrected", reason, correctedBy: actor, correctionDate: now }));
    if (touchesCompletion(changes)) {
      seriesNames.push(current.series, merged.series);
      authorNames.push(current.author, merged.author);
    }
    updated++;
  }

  if (writes.length === 0) return { created, updated, unchanged: rows.length, total: rows.length };
  await runBatch(db, [
    ...chunk(writes, rowsPerInsert(books)).map((slice) =>
      db.insert(books).values(slice).onConflictDoUpdate({ target: books.absId, set: IMPORT_UPDATE_SET }),
    ),
    ...insertCorrections(db, corrections),
    ...completionStatements(db, seriesNames, authorNames),
  ]);
  return { created, updated, unchanged: rows.length - created - updated, total: rows.length };
}
