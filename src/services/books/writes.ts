import { eq, type SQL, sql } from "drizzle-orm";
import { runBatch, type Statement } from "../../db/batch";
import type { Database } from "../../db/client";
import { type Book, books, type NewBook, type NewMetadataCorrection } from "../../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../../errors";
import { type Changes, changesOf } from "../../lib/changes";
import { type BookGroups, recomputeAuthors, recomputeSeries, seriesNamesOf } from "../completion";
import { correctionText, insertCorrections } from "../metadata";
import {
  type BookCreateInput,
  type BookUpdateInput,
  COLUMN_OF,
  CORRECTED_FIELDS,
  columnsOf,
  completenessOf,
  type Field,
  isFilled,
  METADATA_FIELDS,
  type MetadataField,
} from "./fields";
import { bookJson } from "./json";

// ---------------------------------------------------------------------------------------------
// Shared pieces of the writes (here and in ./import.ts)
// ---------------------------------------------------------------------------------------------

/**
 * The series and author completion recomputes for a write that touched these books (as they were
 * and as they become: every series and author of each), to run in the write's own batch so
 * completion is never stale.
 */
export function completionStatements(db: Database, ...rows: (BookGroups | undefined)[]): Statement[] {
  const present = rows.filter((row): row is BookGroups => row !== undefined);
  return [
    recomputeSeries(db, present.flatMap(seriesNamesOf)),
    recomputeAuthors(
      db,
      present.map((row) => row.author),
    ),
  ];
}

/** One metadata_corrections row per changed described field (status and bookkeeping fields have none). */
export function correctionRows(
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
export function touchesCompletion(changes: Changes): boolean {
  return "series" in changes || "additional_series" in changes || "author" in changes || "status" in changes;
}

function duplicateAbsId(absId: string): ConflictError {
  return new ConflictError(`Book with abs_id ${absId} already exists`, "duplicate_resource", { abs_id: absId });
}

// ---------------------------------------------------------------------------------------------
// Writes of one book
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
    [[row]] = await db.batch([db.insert(books).values(values).returning(), ...completionStatements(db, values)]);
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
    ...(touchesCompletion(changes) ? completionStatements(db, current, { ...current, ...set }) : []),
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
    .select({
      title: books.title,
      series: books.series,
      additionalSeries: books.additionalSeries,
      author: books.author,
      status: books.status,
    })
    .from(books)
    .where(eq(books.id, id))
    .get();
  if (!current) throw new NotFoundError("Book", id);
  if (current.status !== "archived") {
    await runBatch(db, [
      db.update(books).set({ status: "archived", dateUpdated: new Date().toISOString() }).where(eq(books.id, id)),
      ...completionStatements(db, current),
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
