import { count, desc, eq, gte, lt, sql } from "drizzle-orm";
import { chunk, rowsPerInsert, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import { books, type MetadataCorrection, metadataCorrections, type NewMetadataCorrection } from "../db/schema";

/**
 * Metadata correction history and quality statistics. Corrections are written by
 * the book writes themselves (src/services/books/writes.ts, import.ts), in the same batch as the change they record.
 */

export const CORRECTION_SOURCES = ["GoogleBooks", "Goodreads", "Manual", "Auto-corrected"] as const;
export type CorrectionSource = (typeof CORRECTION_SOURCES)[number];

/** History answers at most this many corrections, newest first. */
export const HISTORY_LIMIT = 50;
/** The window of `recent_corrections_7_days` in the status. */
const RECENT_DAYS = 7;

const DAY_MS = 86_400_000;

/** The ISO timestamp `days` days before now. */
export function cutoffOf(days: number, now = Date.now()): string {
  return new Date(now - days * DAY_MS).toISOString();
}

/** A correction as answered. */
export function correctionJson(row: MetadataCorrection) {
  return {
    id: row.id,
    field_name: row.fieldName,
    old_value: row.oldValue,
    new_value: row.newValue,
    source: row.source,
    reason: row.reason,
    correction_date: row.correctionDate,
    corrected_by: row.correctedBy,
  };
}

/** A field value as stored in `old_value` / `new_value`. */
export function correctionText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** INSERT statements for correction rows, chunked to D1's parameter limit. */
export function insertCorrections(db: Database, rows: readonly NewMetadataCorrection[]): Statement[] {
  return chunk(rows, rowsPerInsert(metadataCorrections)).map((slice) => db.insert(metadataCorrections).values(slice));
}

/**
 * The two queries of a book's correction history, to run in a caller's batch (one round trip with
 * whatever else it reads): its corrections, newest first (at most 50), and how many it has in all.
 */
export function correctionHistoryQueries(db: Database, bookId: number) {
  const byBook = eq(metadataCorrections.bookId, bookId);
  return [
    db
      .select()
      .from(metadataCorrections)
      .where(byBook)
      .orderBy(desc(metadataCorrections.correctionDate), desc(metadataCorrections.id))
      .limit(HISTORY_LIMIT),
    db.select({ n: count() }).from(metadataCorrections).where(byBook),
  ] as const;
}

/** The answer of `correctionHistoryQueries`' results. */
export function correctionHistoryJson(rows: MetadataCorrection[], total: { n: number } | undefined) {
  return { corrections: rows.map(correctionJson), total_corrections: total?.n ?? 0 };
}

/** A book's corrections, newest first (at most 50), and how many it has in all. */
export async function correctionHistory(db: Database, bookId: number) {
  const [rows, [total]] = await db.batch(correctionHistoryQueries(db, bookId));
  return correctionHistoryJson(rows, total);
}

/** Corrections per source since `days` days ago. */
export async function correctionsBySource(db: Database, days: number) {
  const cutoff = cutoffOf(days);
  const rows = await db
    .select({ source: metadataCorrections.source, n: count() })
    .from(metadataCorrections)
    .where(gte(metadataCorrections.correctionDate, cutoff))
    .groupBy(metadataCorrections.source)
    .orderBy(desc(count()), metadataCorrections.source);
  return {
    days,
    cutoff_date: cutoff,
    total_corrections: rows.reduce((sum, r) => sum + r.n, 0),
    source_breakdown: Object.fromEntries(rows.map((r) => [r.source, r.n])),
  };
}

/**
 * Metadata quality of the active library and the corrections behind it, from
 * two aggregate queries in one round trip: no rows are loaded.
 */
export async function metadataStatus(db: Database) {
  const pct = books.metadataCompletenessPercent;
  // Aliased: D1 returns columns by name, so expressions that print alike would collapse into one.
  const between = (low: number, high: number) =>
    sql<number>`coalesce(sum(${pct} BETWEEN ${low} AND ${high}), 0)`.mapWith(Number).as(`pct_${low}_${high}`);
  const [[quality], sources] = await db.batch([
    db
      .select({
        total: count(),
        average: sql<number>`round(coalesce(avg(${pct}), 0), 2)`.mapWith(Number),
        complete: between(100, 100),
        high: between(80, 99),
        medium: between(50, 79),
        low: between(0, 49),
      })
      .from(books)
      .where(eq(books.status, "active")),
    db
      .select({
        source: metadataCorrections.source,
        n: count(),
        recent: sql<number>`coalesce(sum(${metadataCorrections.correctionDate} >= ${cutoffOf(RECENT_DAYS)}), 0)`.mapWith(Number),
      })
      .from(metadataCorrections)
      .groupBy(metadataCorrections.source)
      .orderBy(desc(count()), metadataCorrections.source),
  ]);
  return {
    average_completeness_percent: quality?.average ?? 0,
    total_books: quality?.total ?? 0,
    completeness_breakdown: {
      complete_100: quality?.complete ?? 0,
      high_quality_80_99: quality?.high ?? 0,
      medium_quality_50_79: quality?.medium ?? 0,
      low_quality_0_49: quality?.low ?? 0,
    },
    sources_used: Object.fromEntries(sources.map((s) => [s.source, s.n])),
    total_corrections: sources.reduce((sum, s) => sum + s.n, 0),
    recent_corrections_7_days: sources.reduce((sum, s) => sum + s.recent, 0),
  };
}

/** Deletes corrections older than `days` days (the retention task runs the same). */
export async function cleanupOldCorrections(db: Database, days: number) {
  const cutoff = cutoffOf(days);
  const result = await db.delete(metadataCorrections).where(lt(metadataCorrections.correctionDate, cutoff)).run();
  return { deleted_count: result.meta.changes ?? 0, cutoff_date: cutoff, days };
}
