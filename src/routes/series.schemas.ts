import { z } from "zod";
import { TOTAL_SOURCES } from "../db/schema";
import { bookStatus, changes, completionStatus, message, timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

/** A series as answered (src/services/series.ts `seriesJson`). */
export const seriesSchema = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    author: z.string().nullable(),
    goodreads_id: z.string().nullable(),
    hardcover_id: z.string().nullable(),
    total_books_in_series: z
      .number()
      .int()
      .nullable()
      .meta({ description: "Books in the series (its whole-numbered positions), when known; null: unknown" }),
    total_source: z
      .enum(TOTAL_SOURCES)
      .nullable()
      .meta({ description: "Where the total came from: the Audible catalogue, or set by hand (which always wins); null when unknown" }),
    total_checked_at: timestamp.nullable().meta({ description: "When the catalogue was asked, or the total set by hand" }),
    books_owned: z.number().int(),
    books_missing: z.number().int(),
    completion_percentage: z
      .number()
      .int()
      .min(0)
      .meta({ description: "Owned of the known total, floored; above 100 when more are owned than the total" }),
    completion_status: completionStatus,
    last_completion_check: timestamp.nullable(),
    date_created: timestamp,
    date_updated: timestamp,
  })
  .meta({ id: "Series" });

/** The positions no active book holds, computed on every read (no gap analysis needed). */
const missingPositions = {
  missing_positions: z.array(z.string()).nullable().meta({
    description:
      "The whole-number positions 1..total_books_in_series that no active book of the series holds (its series_number: 3, 03, 3.0), as texts, the first 200 at most (books_missing counts them all); null while the total is unknown",
  }),
};

export const seriesPage = pageOf("series", seriesSchema.extend(missingPositions));

export const seriesDetail = seriesSchema.extend({
  ...missingPositions,
  books: z.array(
    z.strictObject({
      id: z.number().int(),
      title: z.string(),
      series_number: z.string().nullable(),
      published_year: z.number().int().nullable(),
      status: bookStatus,
    }),
  ),
});

export const seriesWritten = seriesSchema.extend({ series_id: z.number().int() });
export const seriesUpdated = seriesWritten.extend({ changes_made: changes });

export const seriesCompletionSchema = z.strictObject({
  series_id: z.number().int(),
  series_name: z.string(),
  total_books_in_series: z.number().int().nullable(),
  books_owned: z.number().int(),
  books_missing: z.number().int(),
  completion_percentage: z.number().int(),
  completion_status: completionStatus,
  last_completion_check: timestamp.nullable(),
});

export const seriesRecalculated = z.strictObject({
  series_id: z.number().int(),
  series_name: z.string(),
  stats: z.strictObject({
    books_owned: z.number().int(),
    books_missing: z.number().int(),
    total_books: z.number().int().nullable(),
    completion_percentage: z.number().int(),
    completion_status: completionStatus,
  }),
  last_completion_check: timestamp.nullable(),
});

export const seriesSummary = z.strictObject({
  total_series: z.number().int(),
  complete: z.number().int(),
  partial: z.number().int(),
  incomplete: z.number().int(),
  average_completion_percentage: z.number(),
  total_books_owned: z.number().int(),
  total_books_missing: z.number().int(),
});

export const incompleteSeriesSchema = z.strictObject({
  min_completion: z.number().int(),
  max_completion: z.number().int(),
  series: z.array(seriesSchema),
  total_incomplete: z.number().int(),
});

export const seriesDeleted = message("series_id");
