import { getTableColumns, sql } from "drizzle-orm";
import { type Book, books } from "../../db/schema";
import { missingFieldsOf } from "./fields";

// The answers: a book with every field, and the shorter rows of lists.

/** A book with every field. */
export function bookJson(row: Book) {
  return {
    id: row.id,
    abs_id: row.absId,
    title: row.title,
    author: row.author,
    series: row.series,
    series_number: row.seriesNumber,
    additional_series: row.additionalSeries,
    subtitle: row.subtitle,
    genres: row.genres,
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
    files_missing: row.filesMissing,
    quality_score: row.qualityScore,
    mam_rule_version: row.mamRuleVersion,
    duplicate_status: row.duplicateStatus,
  };
}

// Lists read every column but the description (up to 20,000 characters), and only whether it is set.
const { description: _description, ...listedColumns } = getTableColumns(books);
export const summaryColumns = {
  ...listedColumns,
  hasDescription: sql<boolean>`coalesce(trim(${books.description}) <> '', 0)`.mapWith(Boolean),
};
export type SummaryRow = Omit<Book, "description"> & { hasDescription: boolean };

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
    files_missing: row.filesMissing,
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
