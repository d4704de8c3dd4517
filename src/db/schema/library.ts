import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { timestampNow, updatedAt } from "./columns";

// The library: books, and the series and authors their completion is counted for.

export const BOOK_STATUSES = ["active", "duplicate", "archived"] as const;
export const COMPLETION_STATUSES = ["complete", "partial", "incomplete"] as const;
export const TOTAL_SOURCES = ["catalogue", "hand"] as const;

/** A series a book belongs to, with its place in it ("2.5"), or null when unnumbered. */
export interface SeriesEntry {
  name: string;
  sequence: string | null;
}

// Books link to series/authors by name, compared trimmed and case-insensitively; names are stored
// trimmed, hence the lower() indexes. Every series of a book (books.series, then additional_series)
// and every author ("A, B" in books.author) is a row of book_series / book_authors, kept by triggers
// on books (drizzle/0009_book_series_authors.sql), which completion and gaps count.
export const books = sqliteTable(
  "books",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    absId: text("abs_id"),
    title: text("title").notNull(),
    author: text("author"),
    series: text("series"),
    seriesNumber: text("series_number"),
    isbn: text("isbn"),
    asin: text("asin"),
    publisher: text("publisher"),
    publishedYear: integer("published_year"),
    durationMinutes: integer("duration_minutes"),
    description: text("description"),
    metadataCompletenessPercent: integer("metadata_completeness_percent").notNull().default(0),
    lastMetadataUpdate: text("last_metadata_update"),
    // field name → source that supplied it
    metadataSource: text("metadata_source", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
    dateAdded: timestampNow("date_added"),
    dateUpdated: updatedAt("date_updated"),
    importSource: text("import_source"),
    status: text("status", { enum: BOOK_STATUSES }).notNull().default("active"),
    narrator: text("narrator"),
    qualityScore: real("quality_score"),
    mamRuleVersion: integer("mam_rule_version"),
    duplicateStatus: text("duplicate_status").notNull().default("none"),
    subtitle: text("subtitle"),
    genres: text("genres", { mode: "json" }).$type<string[]>().notNull().default([]),
    // The series after the first (books.series) that the book also belongs to, in ABS's order.
    // Completion and gaps count them too, through book_series.
    additionalSeries: text("additional_series", { mode: "json" }).$type<SeriesEntry[]>().notNull().default([]),
    // The Audiobookshelf library the book was listed in (a sync scoped by ABS_LIBRARY_ID archives only its own).
    absLibraryId: text("abs_library_id"),
    // Audiobookshelf lists the item with isMissing: its files are gone. Not owned until they return.
    filesMissing: integer("files_missing", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    uniqueIndex("books_abs_id_unique").on(t.absId),
    index("books_title_idx").on(t.title),
    index("books_author_idx").on(t.author),
    index("books_series_idx").on(t.series),
    index("books_date_added_idx").on(t.dateAdded),
    index("books_status_date_added_idx").on(t.status, t.dateAdded),
    index("books_status_title_idx").on(t.status, t.title),
    index("books_status_completeness_idx").on(t.status, t.metadataCompletenessPercent),
    index("books_series_lower_status_idx").on(sql`lower(${t.series})`, t.status),
    index("books_author_lower_status_idx").on(sql`lower(${t.author})`, t.status),
  ],
);

/** One series a book is in: position 0 is books.series, 1.. the additional series. Written only by triggers on books. */
export const bookSeries = sqliteTable(
  "book_series",
  {
    bookId: integer("book_id")
      .notNull()
      .references(() => books.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
    sequence: text("sequence"),
  },
  (t) => [primaryKey({ columns: [t.bookId, t.position] }), index("book_series_name_lower_idx").on(sql`lower(${t.name})`, t.bookId)],
);

/** One author of a book, books.author split at ", " as Audiobookshelf joins them. Written only by triggers on books. */
export const bookAuthors = sqliteTable(
  "book_authors",
  {
    bookId: integer("book_id")
      .notNull()
      .references(() => books.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    name: text("name").notNull(),
  },
  (t) => [primaryKey({ columns: [t.bookId, t.position] }), index("book_authors_name_lower_idx").on(sql`lower(${t.name})`, t.bookId)],
);

export const series = sqliteTable(
  "series",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    author: text("author"),
    hardcoverId: text("hardcover_id"),
    goodreadsId: text("goodreads_id"),
    totalBooksInSeries: integer("total_books_in_series"),
    // Where the total came from (the Audible catalogue, or set by hand, which always wins) and when;
    // null with no total: unknown, gaps are then the holes between the owned positions.
    totalSource: text("total_source", { enum: TOTAL_SOURCES }),
    totalCheckedAt: text("total_checked_at"),
    booksOwned: integer("books_owned").notNull().default(0),
    booksMissing: integer("books_missing").notNull().default(0),
    completionPercentage: integer("completion_percentage").notNull().default(0),
    lastCompletionCheck: text("last_completion_check"),
    completionStatus: text("completion_status", { enum: COMPLETION_STATUSES }),
    // The name as names are compared (src/lib/name-key.ts): look-alike names are one series.
    nameKey: text("name_key"),
    dateCreated: timestampNow("date_created"),
    dateUpdated: updatedAt("date_updated"),
  },
  (t) => [
    uniqueIndex("series_name_lower_unique").on(sql`lower(${t.name})`),
    uniqueIndex("series_name_key_unique").on(t.nameKey),
    index("series_hardcover_id_idx").on(t.hardcoverId),
    index("series_goodreads_id_idx").on(t.goodreadsId),
    index("series_completion_status_idx").on(t.completionStatus),
    // list order: completion_percentage desc, name
    index("series_completion_pct_name_idx").on(t.completionPercentage, t.name),
  ],
);

// The original has no stored completion percentage for authors: it is derived from
// audiobooks_owned / total_audiobooks_external when answered.
export const authors = sqliteTable(
  "authors",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    hardcoverId: text("hardcover_id"),
    goodreadsId: text("goodreads_id"),
    googleBooksId: text("google_books_id"),
    mamAuthorId: text("mam_author_id"),
    totalAudiobooksExternal: integer("total_audiobooks_external"),
    audiobooksOwned: integer("audiobooks_owned").notNull().default(0),
    audiobooksMissing: integer("audiobooks_missing").notNull().default(0),
    lastCompletionCheck: text("last_completion_check"),
    completionStatus: text("completion_status", { enum: COMPLETION_STATUSES }),
    // As series.name_key.
    nameKey: text("name_key"),
    dateCreated: timestampNow("date_created"),
    dateUpdated: updatedAt("date_updated"),
  },
  (t) => [
    uniqueIndex("authors_name_lower_unique").on(sql`lower(${t.name})`),
    uniqueIndex("authors_name_key_unique").on(t.nameKey),
    index("authors_hardcover_id_idx").on(t.hardcoverId),
    index("authors_goodreads_id_idx").on(t.goodreadsId),
    index("authors_last_completion_check_idx").on(t.lastCompletionCheck),
    index("authors_completion_status_idx").on(t.completionStatus),
    // list and favorites order: audiobooks_owned desc, name
    index("authors_owned_name_idx").on(t.audiobooksOwned, t.name),
  ],
);

export type Book = typeof books.$inferSelect;
export type NewBook = typeof books.$inferInsert;
export type Series = typeof series.$inferSelect;
export type NewSeries = typeof series.$inferInsert;
export type Author = typeof authors.$inferSelect;
export type NewAuthor = typeof authors.$inferInsert;
