import { sql } from "drizzle-orm";
import { runBatch, type Statement } from "../db/batch";
import type { Database } from "../db/client";
import { selectJsonRows } from "../db/json-rows";
import { authors, type Book, books, series } from "../db/schema";
import { nameKey } from "../lib/name-key";
import type { BookImportRow } from "./books";
import { authorNamesOf, type BookGroups, recomputeAuthors, recomputeSeries, seriesNamesOf } from "./completion";
import { completeNameKeys, incompleteKeys } from "./name-keys";

/**
 * What a sync keeps true about the books of one listed page, beyond their metadata (which
 * `importBooks` writes): the library each is in, whether ABS has its files (`isMissing`), a book
 * archived before that ABS lists again is active again, and every series and author of the page
 * has its row (with the first author as the series' author), completion computed. It reads
 * nothing: the rows as the import read them, and the names the sync already knows. One batch, run
 * after the page's import, only when something is to change: all or nothing, and idempotent, so a
 * sync that stops between the two leaves nothing the next sync does not finish.
 */

export interface ListedBook {
  row: BookImportRow;
  libraryId: string;
  filesMissing: boolean;
}

/** The series and author names that have a row, as SQLite's lower() compares them; the sync adds what it makes. */
export interface KnownNames {
  series: Set<string>;
  authors: Set<string>;
}

export interface PageOutcome {
  reactivated: number;
  series_created: number;
  authors_created: number;
}

/** A name as SQLite's lower() compares it (ASCII letters only). */
const key = (name: string) => name.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The names that have a row when the sync starts: one statement, one round trip. Their name keys
 * come with them, and the keys migration 0011 could only partly compute are completed here, once
 * (./name-keys.ts).
 */
export async function knownNames(db: Database): Promise<KnownNames> {
  const rows = await db.all<{ kind: "s" | "a"; id: number; name: string; name_key: string | null }>(
    sql`SELECT 's' AS kind, ${series.id} AS id, ${series.name} AS name, ${series.nameKey} AS name_key FROM ${series}
        UNION ALL SELECT 'a', ${authors.id}, ${authors.name}, ${authors.nameKey} FROM ${authors}`,
  );
  const of = (kind: "s" | "a") => rows.filter((r) => r.kind === kind);
  await completeNameKeys(db, { series: incompleteKeys(of("s")), authors: incompleteKeys(of("a")) });
  const names = (kind: "s" | "a") => new Set(of(kind).map((r) => key(r.name)));
  return { series: names("s"), authors: names("a") };
}

/** A book as the page's import read it, before writing. */
type Before = Pick<Book, "absId" | "status" | "filesMissing" | "absLibraryId" | "series" | "additionalSeries" | "author">;

const absIdIn = (ids: readonly string[]) => sql`${books.absId} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;

export async function reconcilePage(
  db: Database,
  listed: readonly ListedBook[],
  before: readonly Before[],
  known: KnownNames,
): Promise<PageOutcome> {
  const was = new Map(before.map((b) => [b.absId, b]));
  const reactivate: string[] = [];
  const lost: string[] = [];
  const found: string[] = [];
  const moved = new Map<string, string[]>();
  /** Books whose ownership this batch changes: their series and authors are recounted. */
  const recount: BookGroups[] = [];
  const newSeries = new Map<string, { name: string; author: string | null }>();
  const newAuthors = new Map<string, { name: string }>();
  for (const { row, libraryId, filesMissing } of listed) {
    const old = was.get(row.abs_id);
    // A field ABS left empty keeps the stored value (importBooks), so its names stay the book's.
    const groups: BookGroups = {
      series: row.series ?? old?.series,
      additionalSeries: row.additional_series ?? old?.additionalSeries,
      author: row.author ?? old?.author,
    };
    if (old?.status === "archived") reactivate.push(row.abs_id);
    if ((old?.filesMissing ?? false) !== filesMissing) (filesMissing ? lost : found).push(row.abs_id);
    if (old?.absLibraryId !== libraryId) moved.set(libraryId, [...(moved.get(libraryId) ?? []), row.abs_id]);
    if (old?.status === "archived" || (old?.filesMissing ?? false) !== filesMissing) recount.push(groups);
    const authorNames = authorNamesOf(groups.author);
    for (const name of seriesNamesOf(groups)) {
      if (!known.series.has(key(name)) && !newSeries.has(key(name)))
        newSeries.set(key(name), { name: name.trim(), author: authorNames[0] ?? null });
    }
    for (const name of authorNames) if (!known.authors.has(key(name)) && !newAuthors.has(key(name))) newAuthors.set(key(name), { name });
  }

  const statements: Statement[] = [];
  const now = new Date().toISOString();
  if (reactivate.length > 0) statements.push(db.update(books).set({ status: "active", dateUpdated: now }).where(absIdIn(reactivate)));
  if (lost.length > 0) statements.push(db.update(books).set({ filesMissing: true, dateUpdated: now }).where(absIdIn(lost)));
  if (found.length > 0) statements.push(db.update(books).set({ filesMissing: false, dateUpdated: now }).where(absIdIn(found)));
  for (const [libraryId, ids] of moved) statements.push(db.update(books).set({ absLibraryId: libraryId }).where(absIdIn(ids)));
  const seriesRows = [...newSeries.values()];
  const authorRows = [...newAuthors.values()];
  // Each with its name key (src/lib/name-key.ts): a look-alike of an existing row is that row (the conflict is skipped).
  const keyed = <T extends { name: string }>(rows: T[]) => rows.map((row) => ({ ...row, nameKey: nameKey(row.name) }));
  for (const rows of selectJsonRows(series, ["name", "author", "nameKey"], keyed(seriesRows)))
    statements.push(db.insert(series).select(rows).onConflictDoNothing());
  for (const rows of selectJsonRows(authors, ["name", "nameKey"], keyed(authorRows)))
    statements.push(db.insert(authors).select(rows).onConflictDoNothing());
  // Completion of what this batch changed: the new rows, and the groups of books whose ownership changed.
  const seriesNames = [...seriesRows.map((s) => s.name), ...recount.flatMap(seriesNamesOf)];
  const authorNames = [...authorRows.map((a) => a.name), ...recount.map((b) => b.author)];
  if (seriesNames.length > 0) statements.push(recomputeSeries(db, seriesNames));
  if (authorNames.length > 0) statements.push(recomputeAuthors(db, authorNames));
  await runBatch(db, statements);
  for (const k of newSeries.keys()) known.series.add(k);
  for (const k of newAuthors.keys()) known.authors.add(k);
  return { reactivated: reactivate.length, series_created: seriesRows.length, authors_created: authorRows.length };
}
