import { z } from "zod";
import { timestamp } from "../openapi/common";
import { CORRECTION_SOURCES } from "../services/metadata";

// The answers of /api/metadata (src/services/metadata.ts, src/services/metadata-correction.ts).

/** A recorded change of one field of a book. */
export const correction = z
  .strictObject({
    id: z.number().int(),
    field_name: z.string(),
    old_value: z.string().nullable(),
    new_value: z.string().nullable(),
    source: z.string().meta({ description: `Usually one of ${CORRECTION_SOURCES.join(", ")}` }),
    reason: z.string().nullable(),
    correction_date: timestamp,
    corrected_by: z.string(),
  })
  .meta({ id: "MetadataCorrection" });

export const correctionHistory = z.strictObject({
  corrections: z.array(correction).meta({ description: "Newest first, at most 50" }),
  total_corrections: z.number().int(),
});

export const bookCorrections = z.strictObject({ book_id: z.number().int(), ...correctionHistory.shape });

const counts = z.record(z.string(), z.number().int()).meta({ description: "Source → corrections" });

export const bySource = z.strictObject({
  days: z.number().int(),
  cutoff_date: timestamp,
  total_corrections: z.number().int(),
  source_breakdown: counts,
});

export const metadataStatusSchema = z.strictObject({
  average_completeness_percent: z.number(),
  total_books: z.number().int(),
  completeness_breakdown: z.strictObject({
    complete_100: z.number().int(),
    high_quality_80_99: z.number().int(),
    medium_quality_50_79: z.number().int(),
    low_quality_0_49: z.number().int(),
  }),
  sources_used: counts,
  total_corrections: z.number().int(),
  recent_corrections_7_days: z.number().int(),
});

export const cleanupResult = z.strictObject({ deleted_count: z.number().int(), cutoff_date: timestamp, days: z.number().int() });

export const bookCorrection = z.strictObject({
  book_id: z.number().int(),
  book_title: z.string(),
  corrections_made: z.number().int(),
  fields_filled: z.array(z.enum(["author", "isbn", "publisher", "published_year", "description"])),
  completeness_before: z.number().int(),
  new_completeness: z.number().int(),
  sources_used: z.array(z.string()),
  google_books_calls: z.number().int(),
  cache_hits: z.number().int(),
});

export const correctionRun = z.strictObject({
  books_selected: z.number().int(),
  books_processed: z.number().int(),
  books_corrected: z.number().int(),
  total_corrections: z.number().int(),
  average_completeness_before: z.number(),
  average_completeness_after: z.number(),
  skipped_recently_changed: z.number().int(),
  google_books_calls: z.number().int(),
  cache_hits: z.number().int(),
  calls_left_today: z.number().int(),
  stopped_reason: z.string().nullable().meta({ description: "Why the run stopped early (budget spent, Google Books failing)" }),
  duration_seconds: z.number(),
});
