import { and, asc, desc, eq, gte, lt } from "drizzle-orm";
import { type Config, requireService } from "../config";
import type { Database } from "../db/client";
import { type Book, books, metadataCorrections } from "../db/schema";
import { ConflictError, NotFoundError, ServiceUnavailableError } from "../errors";
import { GoogleBooks, type VolumeInfo } from "../integrations/google-books";
import { UpstreamError } from "../integrations/http";
import { type BookFields, type MetadataField, missingFieldsOf, updateBook } from "./books";
import { cachedLookup, callsToday, GOOGLE_BOOKS_DAILY_BUDGET, type LookupResult, rememberLookup, takeCall } from "./google-books-cache";
import { cutoffOf } from "./metadata";

/**
 * Metadata correction from Google Books (README, "Connecting your services"): a book's empty fields are
 * filled, never its filled ones, each with a correction row (source GoogleBooks) and its
 * metadata_source, through the books service's own update (same batch, completeness and
 * completion recomputed). Lookups go by ISBN first, else by title and author; every answer is
 * remembered, and every call is counted against the daily budget.
 */

export const SOURCE = "GoogleBooks";
const REASON = "Filled an empty field from Google Books";
/** A book whose metadata changed this recently is left alone unless forced. */
export const GUARD_HOURS = 24;

/** The fields Google Books can supply (it has no series, sequence, ASIN or duration). */
const FILLABLE = ["author", "isbn", "publisher", "published_year", "description"] as const satisfies readonly MetadataField[];
type Fillable = (typeof FILLABLE)[number];

/** The run ran out of calls: today's budget is spent, or Google said so (429). */
export class BudgetExhausted extends Error {}

/** Lower-case letters and digits only, articles dropped: "The Hobbit!" ~ "hobbit". */
function normalized(text: string): string {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(the|a|an)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** What a volume offers for the fillable fields. */
function fieldsOf(info: VolumeInfo): Partial<Record<Fillable, string | number>> {
  const ids = info.industryIdentifiers ?? [];
  const isbn = ids.find((id) => id.type === "ISBN_13")?.identifier ?? ids.find((id) => id.type === "ISBN_10")?.identifier;
  const year = Number.parseInt(info.publishedDate?.slice(0, 4) ?? "", 10);
  const fields: Partial<Record<Fillable, string | number>> = {
    author:
      info.authors
        ?.map((a) => a.trim())
        .filter(Boolean)
        .join(", ")
        .slice(0, 500) || undefined,
    isbn: isbn?.slice(0, 50),
    publisher: info.publisher?.trim().slice(0, 500) || undefined,
    published_year: year >= 1000 && year <= 3000 ? year : undefined,
    description: info.description?.trim().slice(0, 20_000) || undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** A title search's volume is the book only if the titles agree and, when known, an author does. */
function matches(book: Pick<Book, "title" | "author">, info: VolumeInfo): boolean {
  const wanted = normalized(book.title);
  const found = normalized(`${info.title ?? ""} ${info.subtitle ?? ""}`);
  if (!wanted || !found || !(found.startsWith(wanted) || wanted.startsWith(normalized(info.title ?? "")))) return false;
  if (!book.author) return true;
  const ours = new Set(normalized(book.author).split(" "));
  return (info.authors ?? []).some((name) =>
    normalized(name)
      .split(" ")
      .some((part) => part.length > 1 && ours.has(part)),
  );
}

/** The queries for a book, in order: ISBN, then title and author. */
export function queriesOf(book: Pick<Book, "title" | "author" | "isbn">): { q: string; byIsbn: boolean }[] {
  const queries: { q: string; byIsbn: boolean }[] = [];
  const isbn = book.isbn?.replace(/[^0-9Xx]/g, "");
  if (isbn && (isbn.length === 10 || isbn.length === 13)) queries.push({ q: `isbn:${isbn}`, byIsbn: true });
  const words = (text: string) =>
    text
      .replace(/[^\p{L}\p{N}'\s]/gu, " ")
      .replace(/\s+/g, " ")
      .trim()
      .toLowerCase();
  const title = words(book.title);
  if (title) queries.push({ q: `intitle:${title}${book.author ? ` inauthor:${words(book.author)}` : ""}`, byIsbn: false });
  return queries;
}

export interface LookupStats {
  calls: number;
  cacheHits: number;
}

/**
 * The fields Google Books has for a book: from memory when it was asked lately, else by calling
 * it (one call from the budget each). Throws BudgetExhausted when a call is needed and none is left.
 */
async function lookup(db: Database, google: GoogleBooks, book: Book, stats: LookupStats, budget: number): Promise<LookupResult | null> {
  for (const { q, byIsbn } of queriesOf(book)) {
    let result = await cachedLookup(db, q);
    if (result !== undefined) {
      stats.cacheHits++;
    } else {
      if (!(await takeCall(db, budget))) throw new BudgetExhausted(`the daily budget of ${budget} Google Books calls is used up`);
      stats.calls++;
      let volumes;
      try {
        volumes = await google.volumes(q);
      } catch (error) {
        if (error instanceof UpstreamError && error.upstreamStatus === 429)
          throw new BudgetExhausted("Google Books answered 429 (quota exceeded)");
        throw error;
      }
      const volume = byIsbn ? volumes[0] : volumes.find((v) => matches(book, v.info));
      result = volume ? { volume_id: volume.id, fields: fieldsOf(volume.info) } : null;
      await rememberLookup(db, q, result);
    }
    if (result) return result;
  }
  return null;
}

/** Whether the book's metadata changed (a correction row) within GUARD_HOURS. */
async function changedRecently(db: Database, bookId: number): Promise<boolean> {
  const since = new Date(Date.now() - GUARD_HOURS * 3_600_000).toISOString();
  const row = await db
    .select({ id: metadataCorrections.id })
    .from(metadataCorrections)
    .where(and(eq(metadataCorrections.bookId, bookId), gte(metadataCorrections.correctionDate, since)))
    .limit(1)
    .get();
  return row !== undefined;
}

export interface BookCorrection {
  book_id: number;
  book_title: string;
  corrections_made: number;
  fields_filled: Fillable[];
  completeness_before: number;
  new_completeness: number;
  sources_used: string[];
  google_books_calls: number;
  cache_hits: number;
}

/** Fills the book's empty fields from a lookup (none when nothing is empty or nothing matched). */
async function correct(
  db: Database,
  google: GoogleBooks,
  book: Book,
  actor: string,
  stats: LookupStats,
  budget: number,
): Promise<BookCorrection> {
  const before = { calls: stats.calls, cacheHits: stats.cacheHits };
  const empty = missingFieldsOf(book).filter((field): field is Fillable => (FILLABLE as readonly string[]).includes(field));
  const found = empty.length > 0 ? await lookup(db, google, book, stats, budget) : null;
  const fill = Object.fromEntries(
    empty.filter((field) => found?.fields[field] !== undefined).map((field) => [field, found!.fields[field]]),
  ) as BookFields;
  const filled = Object.keys(fill) as Fillable[];
  let completeness = book.metadataCompletenessPercent;
  if (filled.length > 0) {
    const result = await updateBook(db, book.id, { ...fill, correction_source: SOURCE, correction_reason: REASON }, actor, {
      sources: Object.fromEntries(filled.map((field) => [field, SOURCE])),
    });
    completeness = result.metadata_completeness_percent;
  }
  return {
    book_id: book.id,
    book_title: book.title,
    corrections_made: filled.length,
    fields_filled: filled,
    completeness_before: book.metadataCompletenessPercent,
    new_completeness: completeness,
    sources_used: filled.length > 0 ? [SOURCE] : [],
    google_books_calls: stats.calls - before.calls,
    cache_hits: stats.cacheHits - before.cacheHits,
  };
}

/** POST /api/metadata/correct-book: one book; 409 when it changed within 24 h and not `force`. */
export async function correctBook(
  db: Database,
  google: GoogleBooks,
  bookId: number,
  force: boolean,
  actor: string,
  budget = GOOGLE_BOOKS_DAILY_BUDGET,
) {
  const book = await db.select().from(books).where(eq(books.id, bookId)).get();
  if (!book) throw new NotFoundError("Book", bookId);
  if (!force && (await changedRecently(db, bookId))) {
    throw new ConflictError(`Book ${bookId}'s metadata changed in the last ${GUARD_HOURS} hours; send "force": true to correct it anyway`);
  }
  try {
    return await correct(db, google, book, actor, { calls: 0, cacheHits: 0 }, budget);
  } catch (error) {
    if (error instanceof BudgetExhausted)
      throw new ServiceUnavailableError(`Google Books: ${error.message}; it resets at midnight Pacific time`);
    throw error;
  }
}

export interface RunSelection {
  /** Only books below this completeness (correct-all). */
  threshold?: number;
  /** Only books added within this many days (correct-recent). */
  addedWithinDays?: number;
  limit: number;
}

/**
 * correct-all and correct-recent: the selected active books, least complete first, each written
 * on its own (all or nothing per book). Books changed within 24 h are skipped. The run stops
 * cleanly when the budget is spent or Google Books fails, and says so in `stopped_reason`.
 */
export async function correctMany(
  db: Database,
  google: GoogleBooks,
  selection: RunSelection,
  actor: string,
  budget = GOOGLE_BOOKS_DAILY_BUDGET,
) {
  const started = Date.now();
  const selected = await db
    .select()
    .from(books)
    .where(
      and(
        eq(books.status, "active"),
        lt(books.metadataCompletenessPercent, selection.threshold ?? 100),
        selection.addedWithinDays === undefined ? undefined : gte(books.dateAdded, cutoffOf(selection.addedWithinDays)),
      ),
    )
    .orderBy(asc(books.metadataCompletenessPercent), desc(books.dateAdded), asc(books.id))
    .limit(selection.limit);

  const stats: LookupStats = { calls: 0, cacheHits: 0 };
  const results: BookCorrection[] = [];
  let skippedRecent = 0;
  let stopped: string | null = null;
  for (const book of selected) {
    if (await changedRecently(db, book.id)) {
      skippedRecent++;
      continue;
    }
    try {
      results.push(await correct(db, google, book, actor, stats, budget));
    } catch (error) {
      if (error instanceof BudgetExhausted) stopped = `Stopped: ${error.message}`;
      else if (error instanceof UpstreamError) stopped = `Stopped: ${error.detail}`;
      else throw error;
      break;
    }
  }
  const average = (values: number[]) => (values.length ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100 : 0);
  const corrected = results.filter((r) => r.corrections_made > 0);
  return {
    books_selected: selected.length,
    books_processed: results.length,
    books_corrected: corrected.length,
    total_corrections: results.reduce((sum, r) => sum + r.corrections_made, 0),
    average_completeness_before: average(results.map((r) => r.completeness_before)),
    average_completeness_after: average(results.map((r) => r.new_completeness)),
    skipped_recently_changed: skippedRecent,
    google_books_calls: stats.calls,
    cache_hits: stats.cacheHits,
    calls_left_today: Math.max(0, budget - (await callsToday(db))),
    stopped_reason: stopped,
    duration_seconds: Math.round((Date.now() - started) / 10) / 100,
  };
}

/**
 * The METADATA_NEW (books added in the last 7 days) and METADATA_FULL (books under 80 %) tasks:
 * correct-recent and correct-all, reported as a task outcome; a run stopped by the budget still
 * completes, with the reason in its metadata.
 */
export async function metadataCorrectionTask(db: Database, config: Config, selection: RunSelection) {
  const google = new GoogleBooks(requireService(config, "google_books"), config.upstream);
  return correctionOutcome(await correctMany(db, google, selection, "scheduler"));
}

/** A correction run as a task outcome (the task's run, or the route's recorded run). */
export function correctionOutcome(result: Awaited<ReturnType<typeof correctMany>>) {
  return { processed: result.books_processed, succeeded: result.books_processed, failed: 0, metadata: { ...result } };
}
