import { type AnyColumn, and, desc, eq, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type BookRequest, books, missingBooks } from "../../db/schema";
import { wholePosition } from "../gap-analysis";
import { titleKey, words } from "../release-title";

/**
 * Whether a catalogue book is the same as a library book or a gap: the same ASIN, else the same
 * title (titleKey: no subtitle, accents, punctuation or articles; an edition in brackets is the same
 * work) by the same author ("James S.A. Corey" = "James S. A. Corey"), as AUTHOR_WATCH compares
 * them (../author-watch.ts).
 */

export interface Wanted {
  asin: string;
  title: string;
  /** The catalogue's authors, or the "A, B" of a request. */
  authors: string[];
}

/** Candidates read per look-up: far beyond one author's books. */
const CANDIDATES = 500;

const authorKey = (name: string) => words(name).join("");

/** The surname a library's author text holds for any of these authors (its last word). */
function surnames(wanted: readonly Wanted[]): string[] {
  const all = wanted.flatMap((w) => w.authors.map((name) => words(name).at(-1)).filter((s): s is string => Boolean(s)));
  return [...new Set(all)].slice(0, 20);
}

/** `author` text holding one of the surnames, or the ASIN one of the wanted ones. */
function candidates(asinColumn: AnyColumn, authorColumn: AnyColumn, wanted: readonly Wanted[]) {
  const asins = JSON.stringify([...new Set(wanted.map((w) => w.asin.toUpperCase()))]);
  const byName = surnames(wanted).map((surname) => sql`instr(lower(${authorColumn}), ${surname}) > 0`);
  return or(sql`upper(${asinColumn}) IN (SELECT value FROM json_each(${asins}))`, ...byName);
}

/** Whether a row (title, "A, B" authors, asin) is the wanted book. */
export function sameBook(wanted: Wanted, row: { title: string; author: string | null; asin: string | null }): boolean {
  if (row.asin && row.asin.toUpperCase() === wanted.asin.toUpperCase()) return true;
  if (titleKey(row.title) !== titleKey(wanted.title) || !titleKey(wanted.title)) return false;
  const theirs = new Set((row.author ?? "").split(/,|&/).map(authorKey).filter(Boolean));
  return wanted.authors.some((name) => theirs.has(authorKey(name)));
}

/** Owned library books (active, files present) that may be one of the wanted books; match with `sameBook`. */
export function ownedCandidates(db: Database, wanted: readonly Wanted[]) {
  return db
    .select({ id: books.id, title: books.title, author: books.author, asin: books.asin, dateAdded: books.dateAdded })
    .from(books)
    .where(and(eq(books.status, "active"), eq(books.filesMissing, false), candidates(books.asin, books.author, wanted)))
    .limit(CANDIDATES);
}

/** Open gaps (no library book yet) that may be one of the wanted books; match with `sameBook`. */
export function gapCandidates(db: Database, wanted: readonly Wanted[]) {
  return db
    .select({
      id: missingBooks.id,
      title: missingBooks.title,
      author: missingBooks.authorName,
      asin: missingBooks.asin,
      downloadStatus: missingBooks.downloadStatus,
      reason: missingBooks.reasonMissing,
      titleSource: missingBooks.titleSource,
    })
    .from(missingBooks)
    .where(and(sql`${missingBooks.bookId} IS NULL`, candidates(missingBooks.asin, missingBooks.authorName, wanted)))
    .limit(CANDIDATES);
}

/**
 * The open gap that already wants the requested book, which the approval joins instead of adding
 * a second (both would be searched for and fetched): the one the search shows as wanted (the same
 * ASIN, else the same title and author: ./match.ts), else the series gap at the request's position
 * in its series (titled "Series #n" while the catalogue has not named it).
 */
export async function wantedAlready(db: Database, request: BookRequest): Promise<{ id: number; titleSource: string | null } | undefined> {
  const wanted = { asin: request.asin, title: request.title, authors: request.author?.split(", ") ?? [] };
  const position = Number(request.seriesNumber ?? Number.NaN);
  const seriesGapAt = (name: string, n: number) =>
    db
      .select({ id: missingBooks.id, titleSource: missingBooks.titleSource })
      .from(missingBooks)
      .where(
        and(
          eq(missingBooks.reasonMissing, "series_gap"),
          isNull(missingBooks.bookId),
          sql`lower(${missingBooks.seriesName}) = lower(${name})`,
          sql`${wholePosition(sql`${missingBooks.seriesNumber}`)} = ${n}`,
        ),
      )
      .orderBy(desc(missingBooks.id))
      .limit(1);
  const [gaps, atPosition = []] =
    request.seriesName && Number.isInteger(position)
      ? await db.batch([gapCandidates(db, [wanted]), seriesGapAt(request.seriesName, position)])
      : [await gapCandidates(db, [wanted])];
  const same = gaps.find((gap) => sameBook(wanted, gap));
  return same ? { id: same.id, titleSource: same.titleSource } : atPosition[0];
}
