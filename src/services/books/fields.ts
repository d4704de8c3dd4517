import type { BOOK_STATUSES, Book, NewBook, SeriesEntry } from "../../db/schema";
import type { CorrectionSource } from "../metadata";

// The described fields of a book, their columns, and metadata completeness.

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
export const COLUMN_OF = {
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
  subtitle: "subtitle",
  genres: "genres",
  additional_series: "additionalSeries",
} as const satisfies Record<string, keyof Book>;
export type Field = keyof typeof COLUMN_OF;
export type BookStatus = (typeof BOOK_STATUSES)[number];

/** Fields whose changes are recorded in metadata_corrections: the described fields, not bookkeeping. */
export const CORRECTED_FIELDS: readonly Field[] = [...METADATA_FIELDS, "narrator"];

type MetadataValues = { [F in MetadataField as (typeof COLUMN_OF)[F]]?: unknown };

export function isFilled(value: unknown): boolean {
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
// Inputs (validated by the route schemas)
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

/** An imported book: also what only an import supplies (Audiobookshelf's subtitle, genres, further series). */
export interface BookImportRow extends BookCreateInput {
  abs_id: string;
  subtitle?: string | null;
  genres?: string[];
  additional_series?: SeriesEntry[];
}

export interface BookUpdateInput extends BookFields {
  status?: BookStatus;
  correction_source?: CorrectionSource;
  correction_reason?: string | null;
}

/** The columns of the fields present in `input`. */
export function columnsOf(input: Partial<Record<Field, unknown>>): Partial<NewBook> {
  const values: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(COLUMN_OF)) {
    const value = input[field as Field];
    if (value !== undefined) values[column] = value;
  }
  return values as Partial<NewBook>;
}
