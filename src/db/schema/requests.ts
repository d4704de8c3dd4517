import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { missingBooks } from "./acquisition";
import { timestampNow, updatedAt } from "./columns";
import { users } from "./identity";
import { books } from "./library";

// Requests: a person asks for a book of the Audible catalogue, an operator approves, the
// acquisition loop fetches it (src/services/requests/).

export const REQUEST_STATUSES = ["pending", "approved", "denied", "searching", "downloading", "available", "failed"] as const;
/** The states of a request still under way: one such request per ASIN (the partial unique index). */
export const OPEN_REQUEST_STATUSES = ["pending", "approved", "searching", "downloading"] as const;

export const bookRequests = sqliteTable(
  "book_requests",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    asin: text("asin").notNull(),
    // The catalogue's own words at request time: what the wanted book is searched for by.
    title: text("title").notNull(),
    author: text("author"),
    seriesName: text("series_name"),
    seriesNumber: text("series_number"),
    releaseDate: text("release_date"),
    // Who asked: the user (kept when the user is deleted, as `requested_by` says who it was), and
    // the actor as audit rows write it ("user:ana", "key:kitchen", "operator").
    requestedByUserId: integer("requested_by_user_id").references(() => users.id, { onDelete: "set null" }),
    requestedBy: text("requested_by").notNull(),
    // Asked again for a book already in the library, and why (a better edition, a broken copy).
    again: integer("again", { mode: "boolean" }).notNull().default(false),
    reason: text("reason"),
    status: text("status", { enum: REQUEST_STATUSES }).notNull().default("pending"),
    decidedBy: text("decided_by"),
    decisionNote: text("decision_note"),
    decidedAt: text("decided_at"),
    // The wanted book the loop fetches (set on approval), and the library book that fulfilled it.
    missingBookId: integer("missing_book_id").references(() => missingBooks.id, { onDelete: "set null" }),
    bookId: integer("book_id").references(() => books.id, { onDelete: "set null" }),
    createdAt: timestampNow("created_at"),
    updatedAt: updatedAt("updated_at"),
  },
  (t) => [
    // A duplicate is refused even when two people ask at the same instant.
    uniqueIndex("book_requests_open_asin_unique").on(t.asin).where(sql`status IN ('pending', 'approved', 'searching', 'downloading')`),
    index("book_requests_requested_by_created_idx").on(t.requestedBy, t.createdAt),
    index("book_requests_status_idx").on(t.status, t.id),
    index("book_requests_missing_book_id_idx").on(t.missingBookId),
  ],
);

export type BookRequest = typeof bookRequests.$inferSelect;
export type NewBookRequest = typeof bookRequests.$inferInsert;
