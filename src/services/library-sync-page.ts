import { and, sql } from "drizzle-orm";
import { runBatch, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import { selectJsonRows } from "../db/json-rows";
import { authors, bookAuthors, bookSeries, books, series } from "../db/schema";
import { nameKey } from "../lib/name-key";
import { recomputeAuthors, recomputeSeries } from "./completion";

/**
 * What a sync keeps true about the books of one listed page, beyond their metadata (which
 * `importBooks` writes): the library each is in, whether ABS has its files (`isMissing`), a book
 * archived before that ABS lists again is active again, and every series and author of the page
 * has its row (with the first author as the series' author), completion computed. One batch, run
 * after the page's import: all or nothing, and idempotent, so a sync that stops between the two
 * leaves nothing the next sync does not finish.
 */

export interface ListedBook {
  absId: string;
  libraryId: string;
  filesMissing: boolean;
}

export interface PageOutcome {
  reactivated: number;
  series_created: number;
  authors_created: number;
}

const inJson = (ids: readonly (string | number)[]) => sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;

export async function reconcilePage(db: Database, listed: readonly ListedBook[]): Promise<PageOutcome> {
  const byAbsId = new Map(listed.map((b) => [b.absId, b]));
  const absIds = [...byAbsId.keys()];
  const [state, newSeries, newAuthors] = await db.batch([
    db
      .select({
        id: books.id,
        absId: books.absId,
        status: books.status,
        filesMissing: books.filesMissing,
        absLibraryId: books.absLibraryId,
        series: books.series,
        additionalSeries: books.additionalSeries,
        author: books.author,
      })
      .from(books)
      .where(sql`${books.absId} IN ${inJson(absIds)}`),
    db
      .select({
        name: bookSeries.name,
        author: sql<
          string | null
        >`(SELECT a.name FROM ${bookAuthors} a WHERE a.book_id = ${bookSeries.bookId} ORDER BY a.position LIMIT 1)`,
      })
      .from(bookSeries)
      .where(
        and(
          sql`${bookSeries.bookId} IN (SELECT id FROM ${books} WHERE abs_id IN ${inJson(absIds)})`,
          sql`NOT EXISTS (SELECT 1 FROM ${series} s WHERE lower(s.name) = lower(${bookSeries.name}))`,
        ),
      ),
    db
      .select({ name: bookAuthors.name })
      .from(bookAuthors)
      .where(
        and(
          sql`${bookAuthors.bookId} IN (SELECT id FROM ${books} WHERE abs_id IN ${inJson(absIds)})`,
          sql`NOT EXISTS (SELECT 1 FROM ${authors} x WHERE lower(x.name) = lower(${bookAuthors.name}))`,
        ),
      ),
  ]);

  const reactivate: number[] = [];
  const lost: number[] = [];
  const found: number[] = [];
  const moved = new Map<string, number[]>();
  const recount: typeof state = [];
  for (const book of state) {
    const seen = byAbsId.get(book.absId ?? "");
    if (!seen) continue;
    if (book.status === "archived") reactivate.push(book.id);
    if (book.filesMissing !== seen.filesMissing) (seen.filesMissing ? lost : found).push(book.id);
    if (book.absLibraryId !== seen.libraryId) moved.set(seen.libraryId, [...(moved.get(seen.libraryId) ?? []), book.id]);
    if (book.status === "archived" || book.filesMissing !== seen.filesMissing) recount.push(book);
  }
  const seriesRows = unique(newSeries);
  const authorRows = unique(newAuthors);

  const statements: Statement[] = [];
  const now = new Date().toISOString();
  if (reactivate.length > 0)
    statements.push(
      db
        .update(books)
        .set({ status: "active", dateUpdated: now })
        .where(sql`${books.id} IN ${inJson(reactivate)}`),
    );
  if (lost.length > 0)
    statements.push(
      db
        .update(books)
        .set({ filesMissing: true, dateUpdated: now })
        .where(sql`${books.id} IN ${inJson(lost)}`),
    );
  if (found.length > 0)
    statements.push(
      db
        .update(books)
        .set({ filesMissing: false, dateUpdated: now })
        .where(sql`${books.id} IN ${inJson(found)}`),
    );
  for (const [libraryId, ids] of moved)
    statements.push(
      db
        .update(books)
        .set({ absLibraryId: libraryId })
        .where(sql`${books.id} IN ${inJson(ids)}`),
    );
  // Each with its name key (src/lib/name-key.ts): a look-alike of an existing row is that row (the conflict is skipped).
  const keyed = <T extends { name: string }>(rows: T[]) => rows.map((row) => ({ ...row, nameKey: nameKey(row.name) }));
  for (const rows of selectJsonRows(series, ["name", "author", "nameKey"], keyed(seriesRows)))
    statements.push(db.insert(series).select(rows).onConflictDoNothing());
  for (const rows of selectJsonRows(authors, ["name", "nameKey"], keyed(authorRows)))
    statements.push(db.insert(authors).select(rows).onConflictDoNothing());
  const seriesNames = [...seriesRows.map((s) => s.name), ...recount.flatMap((b) => [b.series, ...b.additionalSeries.map((s) => s.name)])];
  const authorNames = [...authorRows.map((a) => a.name), ...recount.map((b) => b.author)];
  if (seriesNames.length > 0) statements.push(recomputeSeries(db, seriesNames));
  if (authorNames.length > 0) statements.push(recomputeAuthors(db, authorNames));
  await runBatch(db, statements);
  return { reactivated: reactivate.length, series_created: seriesRows.length, authors_created: authorRows.length };
}

/** One row per name key (look-alikes are one name), the first seen kept. */
function unique<T extends { name: string }>(rows: readonly T[]): T[] {
  const kept = new Map<string, T>();
  for (const row of rows) {
    const key = nameKey(row.name);
    if (!kept.has(key)) kept.set(key, row);
  }
  return [...kept.values()];
}
