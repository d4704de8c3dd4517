import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { type JsonObject, timestampNow } from "./columns";
import { books } from "./library";

// Metadata: the history of corrections, and what outside lookups cost and answered.

export const metadataCorrections = sqliteTable(
  "metadata_corrections",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    bookId: integer("book_id")
      .notNull()
      .references(() => books.id, { onDelete: "cascade" }),
    fieldName: text("field_name").notNull(),
    oldValue: text("old_value"),
    newValue: text("new_value"),
    source: text("source").notNull(),
    reason: text("reason"),
    correctionDate: timestampNow("correction_date"),
    correctedBy: text("corrected_by").notNull().default("system"),
  },
  (t) => [
    index("metadata_corrections_book_id_date_idx").on(t.bookId, t.correctionDate),
    index("metadata_corrections_source_date_idx").on(t.source, t.correctionDate),
    index("metadata_corrections_date_idx").on(t.correctionDate),
    index("metadata_corrections_field_name_idx").on(t.fieldName),
  ],
);

// Google Books lookups, kept so a book is not asked for twice (src/services/google-books-cache.ts):
// the normalised `q` → the chosen volume's fields, or null for no hit.
export const googleBooksLookups = sqliteTable("google_books_lookups", {
  query: text("query").primaryKey(),
  result: text("result", { mode: "json" }).$type<JsonObject | null>(),
  fetchedAt: timestampNow("fetched_at"),
});

// Calls made to an outside service per quota day (Google Books: 1,000 a day per key).
export const upstreamQuota = sqliteTable(
  "upstream_quota",
  {
    service: text("service").notNull(),
    day: text("day").notNull(),
    calls: integer("calls").notNull().default(0),
  },
  (t) => [uniqueIndex("upstream_quota_service_day_unique").on(t.service, t.day)],
);

// A login an outside service refused (qBittorrent bans an address after five), remembered across
// isolates so none tries again for a while (src/integrations/qbittorrent.ts). The key is the SHA-256
// of the service URL, user and password: no credential is stored.
export const upstreamLoginRefusals = sqliteTable("upstream_login_refusals", {
  loginKey: text("login_key").primaryKey(),
  refusedAt: text("refused_at").notNull(),
  detail: text("detail").notNull(),
  upstreamStatus: integer("upstream_status"),
});

export type MetadataCorrection = typeof metadataCorrections.$inferSelect;
export type NewMetadataCorrection = typeof metadataCorrections.$inferInsert;
