import { z } from "zod";
import { bookStatus, changes, completionStatus, message, timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

const percentage = z
  .number()
  .int()
  .min(0)
  .meta({ description: "Owned of the known total (0 when the total is unknown); above 100 when more are owned" });

/** An author as answered (src/services/authors.ts `authorJson`). */
export const authorSchema = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    goodreads_id: z.string().nullable(),
    google_books_id: z.string().nullable(),
    hardcover_id: z.string().nullable(),
    mam_author_id: z.string().nullable(),
    total_audiobooks_external: z.number().int().nullable().meta({ description: "Audiobooks the author has, when known" }),
    audiobooks_owned: z.number().int(),
    audiobooks_missing: z.number().int(),
    completion_percentage: percentage,
    completion_status: completionStatus,
    last_completion_check: timestamp.nullable(),
    date_created: timestamp,
    date_updated: timestamp,
  })
  .meta({ id: "Author" });

export const authorPage = pageOf("authors", authorSchema);

const authorBook = z.strictObject({
  id: z.number().int(),
  title: z.string(),
  series: z.string().nullable(),
  series_number: z.string().nullable(),
  published_year: z.number().int().nullable(),
  status: bookStatus,
});

export const authorDetail = authorSchema.extend({ books: z.array(authorBook) });

export const authorBooksSchema = z.strictObject({
  author_id: z.number().int(),
  author_name: z.string(),
  books: z.array(authorBook),
  total_books: z.number().int(),
});

export const authorWritten = authorSchema.extend({ author_id: z.number().int() });
export const authorUpdated = authorWritten.extend({ changes_made: changes });
export const authorDeleted = message("author_id");

export const authorCompletionSchema = z.strictObject({
  author_id: z.number().int(),
  author_name: z.string(),
  total_audiobooks_external: z.number().int().nullable(),
  audiobooks_owned: z.number().int(),
  audiobooks_missing: z.number().int(),
  completion_percentage: percentage,
  completion_status: completionStatus,
  last_completion_check: timestamp.nullable(),
});

export const authorRecalculated = z.strictObject({
  author_id: z.number().int(),
  author_name: z.string(),
  stats: z.strictObject({
    audiobooks_owned: z.number().int(),
    audiobooks_missing: z.number().int(),
    total_audiobooks_external: z.number().int().nullable(),
    completion_percentage: percentage,
    completion_status: completionStatus,
  }),
  last_completion_check: timestamp.nullable(),
});

export const favoriteAuthorsSchema = z.strictObject({
  min_books: z.number().int(),
  authors: z.array(authorSchema),
  total_favorites: z.number().int(),
});

export const authorSummary = z.strictObject({
  total_authors: z.number().int(),
  complete: z.number().int(),
  partial: z.number().int(),
  incomplete: z.number().int(),
  favorite_authors: z.number().int(),
  average_completion_percentage: z.number(),
  total_audiobooks_owned: z.number().int(),
  total_audiobooks_missing: z.number().int(),
});
