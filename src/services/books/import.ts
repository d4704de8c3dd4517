import { sql } from "drizzle-orm";
import { runBatch } from "../../db/batch";
import type { Database } from "../../db/client";
import { selectJsonRows } from "../../db/json-rows";
import { type Book, books, metadataCorrections, type NewBook, type NewMetadataCorrection } from "../../db/schema";
import { changesOf } from "../../lib/changes";
import type { BookGroups } from "../completion";
import { type BookImportRow, columnsOf, completenessOf } from "./fields";
import { bookJson } from "./json";
import { completionStatements, correctionRows, touchesCompletion } from "./writes";

// Bulk import: books upserted by abs_id.

/** Columns an import refreshes on a book that exists (never its id, date_added or status). */
const IMPORT_UPDATED = [
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
  "subtitle",
  "genres",
  "additionalSeries",
  "importSource",
  "metadataSource",
  "metadataCompletenessPercent",
  "lastMetadataUpdate",
  "dateUpdated",
] as const satisfies readonly (keyof NewBook)[];
const IMPORT_UPDATE_SET = Object.fromEntries(IMPORT_UPDATED.map((key) => [key, sql.raw(`excluded.${books[key].name}`)]));
/** Columns an import writes; the others (status, ...) take their defaults on a new book. */
const IMPORT_COLUMNS = ["absId", "dateAdded", ...IMPORT_UPDATED] as const;
/** Every column of a correction row, as correctionRows fills them. */
const CORRECTION_COLUMNS = [
  "bookId",
  "fieldName",
  "oldValue",
  "newValue",
  "source",
  "reason",
  "correctedBy",
  "correctionDate",
] as const satisfies readonly (keyof NewMetadataCorrection)[];

/**
 * Upserts books by `abs_id`, all or nothing. New abs_ids are created; on a known one the fields
 * sent replace the stored ones (absent fields are kept, metadata_source is merged), and a row
 * that changes nothing is counted `unchanged` and not written. One D1 batch (one transaction)
 * holds the upserts, a correction row per changed described field ("Auto-corrected", with
 * `reason`, "bulk import" by default), and the completion recomputes of every series and author
 * touched. When every row is unchanged, nothing is sent. The rows travel as JSON (src/db/json-rows.ts):
 * a page of 500 books is one INSERT, not 125 of four rows (D1's 100 bound parameters).
 */
export async function importBooks(
  db: Database,
  rows: readonly BookImportRow[],
  actor: string,
  { reason = "bulk import", seen }: { reason?: string; seen?: (existing: readonly Book[]) => void } = {},
) {
  const now = new Date().toISOString();
  // One bound parameter for every abs_id (D1 allows 100 per statement): a JSON array.
  const existing = await db
    .select()
    .from(books)
    .where(sql`${books.absId} IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.abs_id))}))`);
  // The sync goes on from the rows as they were (src/services/library-sync-page.ts), without reading them again.
  seen?.(existing);
  const byAbsId = new Map(existing.map((book) => [book.absId, book]));

  const writes: NewBook[] = [];
  const corrections: NewMetadataCorrection[] = [];
  const touched: BookGroups[] = [];
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
      touched.push(values);
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
      touched.push(current, merged);
    }
    updated++;
  }

  if (writes.length === 0) return { created, updated, unchanged: rows.length, total: rows.length };
  await runBatch(db, [
    ...selectJsonRows(books, IMPORT_COLUMNS, writes).map((rows) =>
      db.insert(books).select(rows).onConflictDoUpdate({ target: books.absId, set: IMPORT_UPDATE_SET }),
    ),
    ...selectJsonRows(metadataCorrections, CORRECTION_COLUMNS, corrections).map((rows) => db.insert(metadataCorrections).select(rows)),
    ...completionStatements(db, ...touched),
  ]);
  return { created, updated, unchanged: rows.length - created - updated, total: rows.length };
}
