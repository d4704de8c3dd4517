import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// The Audible catalogue, as far as the library's series need it (src/services/catalogue/): one row
// per series of the library, by name, with what Audible says it holds and when it was asked.

export const CATALOGUE_STATUSES = ["found", "unknown"] as const;
export const CATALOGUE_LOOKUPS = ["asin", "search"] as const;

/** One member of a series, in the catalogue's order. */
export interface CatalogueMember {
  /** Cleaned sequence ("3", "2.5"). */
  position: string;
  asin: string;
  /** null when Audible lists the member but not its product (another region's edition). */
  title: string | null;
  /** YYYY-MM-DD; in the future for an announced book. */
  release_date: string | null;
}

export const catalogueSeries = sqliteTable(
  "catalogue_series",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // The library's series name (books.series), compared case-insensitively.
    name: text("name").notNull(),
    // found: Audible knows the series; unknown: no book of it led to an Audible series.
    status: text("status", { enum: CATALOGUE_STATUSES }).notNull(),
    // How the series was found: a book's ASIN from Audiobookshelf, or a title + author search.
    lookup: text("lookup", { enum: CATALOGUE_LOOKUPS }),
    seriesAsin: text("series_asin"),
    audibleTitle: text("audible_title"),
    members: text("members", { mode: "json" }).$type<CatalogueMember[]>().notNull().default([]),
    // Whole-numbered books (1..n); novellas at 2.5 are members but not counted.
    total: integer("total"),
    checkedAt: text("checked_at").notNull(),
    // The last failure asking for it (a shape, a 5xx): retried sooner than a success is refreshed.
    error: text("error"),
  },
  (t) => [
    uniqueIndex("catalogue_series_name_lower_unique").on(sql`lower(${t.name})`),
    index("catalogue_series_checked_at_idx").on(t.checkedAt),
  ],
);

export type CatalogueSeries = typeof catalogueSeries.$inferSelect;
