import { z } from "zod";
import { BOOK_STATUSES } from "../db/schema";
import { optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { decimalInt } from "../lib/validate";
import { bookStatus, changes, timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";
import { METADATA_FIELDS } from "../services/books";
import { CORRECTION_SOURCES } from "../services/metadata";
import { correctionHistory } from "./metadata.schemas";

// The request shapes of /api/books (field bounds: README). Strings are trimmed; an optional
// text that is blank or null stores no value. Bodies are strict: a misspelt field is a 422, not
// silently ignored, because the callers are scripts.

const title = z.string().trim().min(1).max(500);
const wholeNumber = (max: number) => z.number().int().min(0).max(max).nullable().optional();

const described = {
  title,
  author: optionalText(500),
  series: optionalText(500),
  series_number: optionalText(50),
  isbn: optionalText(50),
  asin: optionalText(50),
  publisher: optionalText(500),
  published_year: wholeNumber(3000),
  duration_minutes: wholeNumber(10_000_000),
  description: optionalText(20_000),
  narrator: optionalText(255),
};

/** field name → the source that supplied it. */
const metadataSource = z
  .record(z.string().trim().min(1).max(100), z.string().trim().min(1).max(100))
  .refine((sources) => Object.keys(sources).length <= 50, "At most 50 fields")
  .nullable()
  .optional();

export const bookCreate = z.strictObject({
  ...described,
  abs_id: optionalText(255),
  import_source: optionalText(100),
  metadata_source: metadataSource,
});

const UPDATABLE = [...Object.keys(described), "status"];

export const bookUpdate = z
  .strictObject({
    ...described,
    title: title.optional(),
    status: z.enum(BOOK_STATUSES).optional(),
    correction_source: z.enum(CORRECTION_SOURCES).optional(),
    correction_reason: optionalText(255),
  })
  .refine((body) => UPDATABLE.some((field) => body[field as keyof typeof body] !== undefined), {
    message: `Send at least one field to update: ${UPDATABLE.join(", ")}`,
  });

/** POST /import: 1..1000 books, each with its abs_id, no abs_id twice. */
export const MAX_IMPORT_ROWS = 1000;
export const bookImport = z
  .array(bookCreate.extend({ abs_id: z.string().trim().min(1).max(255) }))
  .min(1)
  .max(MAX_IMPORT_ROWS)
  .superRefine(
    (rows, ctx) => {
      const seen = new Map<string, number>();
      rows.forEach((row: unknown, index) => {
        // Rows that failed their own checks are still looked at: every problem is reported at once.
        const raw = (row as { abs_id?: unknown } | null)?.abs_id;
        if (typeof raw !== "string" || raw.trim() === "") return;
        const absId = raw.trim();
        const first = seen.get(absId);
        if (first === undefined) seen.set(absId, index);
        else ctx.addIssue({ code: "custom", path: [index, "abs_id"], message: `Duplicate abs_id: also in row ${first}` });
      });
    },
    // Run even when rows have type errors (zod skips refinements of a failed value by default).
    { when: (payload) => Array.isArray(payload.value) },
  );

export const metadataSourceBody = z.strictObject({
  field_name: z.enum(METADATA_FIELDS),
  source: z.string().trim().min(1).max(100),
});

export const listQuery = pageQuery.extend({
  status: z.enum([...BOOK_STATUSES, "all"]).default("active"),
  // An empty ?search= (a dashboard's empty box) filters nothing.
  search: z
    .string()
    .trim()
    .max(200)
    .transform((value) => value || undefined)
    .optional(),
  series: z.string().trim().min(1).max(500).optional().meta({ description: "Only the books of this series (any case)" }),
  author: z.string().trim().min(1).max(500).optional().meta({ description: "Only the books of this author (any case)" }),
  missing_metadata: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional()
    .meta({ description: "true: only books with a counted metadata field empty (under 100 %); false: only complete ones" }),
  missing_files: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional()
    .meta({
      description: "true: only books whose files Audiobookshelf reports missing (files_missing); false: only those with their files",
    }),
});

export const searchQuery = z.object({
  query: z.string().trim().min(1).max(200),
  limit: decimalInt(z.number().min(1).max(100)).default(10),
  offset: decimalInt(z.number().min(0).max(1_000_000_000)).default(0),
});

export const incompleteQuery = z.object({
  threshold: decimalInt(z.number().min(0).max(100)).default(80),
  limit: decimalInt(z.number().min(1).max(500)).default(100),
});

export const seriesParam = z.object({ name: z.string().trim().min(1).max(500) });

// The answers of /api/books (src/services/books/).

const nullableText = z.string().nullable();
const completeness = z.number().int().min(0).max(100).meta({ description: "Share of the described fields that are filled" });
const sources = z.record(z.string(), z.string()).meta({ description: "Field name → the source that supplied it" });

/** A book in a list (list, search, series). */
export const bookSummary = z
  .strictObject({
    id: z.number().int(),
    abs_id: nullableText,
    title: z.string(),
    author: nullableText,
    series: nullableText,
    series_number: nullableText,
    narrator: nullableText,
    published_year: z.number().int().nullable(),
    metadata_completeness_percent: completeness,
    last_metadata_update: timestamp.nullable(),
    status: bookStatus,
    files_missing: z.boolean().meta({ description: "Audiobookshelf lists the book but its files are gone: not owned until they return" }),
    date_added: timestamp,
  })
  .meta({ id: "BookSummary" });

/** A book with every field. */
export const bookSchema = z
  .strictObject({
    ...bookSummary.shape,
    isbn: nullableText,
    asin: nullableText,
    publisher: nullableText,
    duration_minutes: z.number().int().nullable(),
    description: nullableText,
    metadata_source: sources,
    date_updated: timestamp,
    import_source: nullableText,
    quality_score: z.number().nullable(),
    mam_rule_version: z.number().int().nullable(),
    duplicate_status: z.string(),
    // From Audiobookshelf: its subtitle and genres, and the series after the first (each counted for completion and gaps too).
    subtitle: nullableText,
    genres: z.array(z.string()),
    additional_series: z.array(z.strictObject({ name: z.string(), sequence: nullableText })),
  })
  .meta({ id: "Book" });

export const bookPage = pageOf("books", bookSummary);

export const searchResults = z.strictObject({ query: z.string(), books: z.array(bookSummary), total_results: z.number().int() });

export const incompleteBooksSchema = z.strictObject({
  threshold: z.number().int(),
  books: z.array(
    bookSummary.extend({
      missing_fields: z.array(z.enum(METADATA_FIELDS)),
      metadata_source: sources,
    }),
  ),
  total_incomplete: z.number().int(),
});

export const seriesBooks = z.strictObject({ series_name: z.string(), books: z.array(bookSummary), total_books: z.number().int() });

export const bookHistory = z.strictObject({ book_id: z.number().int(), book_title: z.string(), ...correctionHistory.shape });

export const bookCreated = z.strictObject({
  book_id: z.number().int(),
  title: z.string(),
  author: nullableText,
  metadata_completeness_percent: completeness,
});

export const bookUpdated = z.strictObject({
  book_id: z.number().int(),
  changes_made: changes,
  metadata_completeness_percent: completeness,
});

export const bookArchived = z.strictObject({ book_id: z.number().int(), status: z.literal("archived"), message: z.string() });

export const sourceSet = z.strictObject({
  book_id: z.number().int(),
  field_name: z.enum(METADATA_FIELDS),
  source: z.string(),
  metadata_source: sources,
});

export const importResult = z.strictObject({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  total: z.number().int(),
});
