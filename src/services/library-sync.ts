import { and, eq, isNotNull, sql } from "drizzle-orm";
import { type Config, requireService } from "../config";
import { chunk, runBatch } from "../db/batch";
import type { Database } from "../db/client";
import { type Book, books } from "../db/schema";
import { ABS_PAGE_SIZE, Audiobookshelf } from "../integrations/audiobookshelf";
import { UpstreamError } from "../integrations/http";
import { completionStatements, importBooks } from "./books";
import { importRowOf } from "./library-sync-item";
import { type KnownNames, knownNames, reconcilePage } from "./library-sync-page";
import { settleRequests } from "./requests/status";

/**
 * The catalogue from Audiobookshelf (POST /api/library/sync; README, "Connecting your services"): every
 * item of the book libraries, page by page, upserted by abs_id with the import's own rules
 * (src/services/books/import.ts `importBooks`: unchanged rows are not written, changed fields get a
 * correction row, completion is recomputed in the same batch). Each page is one D1 batch, all or
 * nothing, so a sync that fails half way leaves the catalogue as its last complete page left it.
 * After each page, `reconcilePage` (./library-sync-page.ts) keeps the rest true: library, missing
 * files, a reappearing book active again, the series and author rows. Only a listing that
 * completed archives the books ABS no longer has.
 */

const SYNC_REASON = "Audiobookshelf sync";

/** The most items one sync reads, every library together: far beyond a personal library. */
export const MAX_SYNC_ITEMS = 100_000;
/** A sync reads no further page after this long; what it read stands, and nothing is archived. */
export const SYNC_TIME_BUDGET_MS = 5 * 60_000;

export interface SyncResult {
  created: number;
  updated: number;
  unchanged: number;
  archived: number;
  /** Archived books that Audiobookshelf lists again: active again. */
  reactivated: number;
  /** Listed books whose files are gone (ABS's isMissing): kept, not owned. */
  missing_files: number;
  series_created: number;
  authors_created: number;
  total: number;
  duration_ms: number;
  libraries: number;
  pages: number;
  /** Why nothing was archived, when that is the case. */
  archive_skipped?: string;
  /** Listed items that were not library items (an id too long, a wrong shape): left out. */
  malformed?: number;
}

export interface SyncOptions {
  /** Archive what the listing lacks even when it is more than ARCHIVE_GUARD_SHARE of the library. */
  force?: boolean;
  /** The time, in milliseconds (tests give it). */
  clock?: () => number;
  /** Told after each page of the listing has been written (POST /api/library/sync's progress). */
  onPage?: (progress: SyncProgress) => Promise<void>;
}

/**
 * The share of the library one sync may archive without `force`: a listing that lacks more is
 * likelier a wrong ABS_LIBRARY_ID, a half-mounted disk or a filtered view than books deleted.
 */
export const ARCHIVE_GUARD_SHARE = 0.1;

/** How far a sync is, after each page of Audiobookshelf's listing has been written. */
export interface SyncProgress {
  library: string;
  /** 1-based, of `pages` in this library (as its first page counted them). */
  page: number;
  pages: number;
  /** Books read so far, over every library, and what became of them. */
  books: number;
  created: number;
  updated: number;
  unchanged: number;
}

/** Books per archive UPDATE: their ids travel as one JSON parameter. */
const ARCHIVE_SLICE = 1000;

/**
 * The walk is bounded whatever Audiobookshelf answers: our own page size (an answer's `limit` is
 * not read), at most MAX_SYNC_ITEMS listed and SYNC_TIME_BUDGET_MS spent (`clock` gives the time).
 * A walk stopped by either archives nothing and says why.
 */
export async function syncLibrary(
  db: Database,
  abs: Audiobookshelf,
  actor: string,
  { force = false, clock = Date.now, onPage }: SyncOptions = {},
): Promise<SyncResult> {
  const started = clock();
  const libraries = await abs.bookLibraries();
  if (abs.settings.libraryId && libraries.length === 0) {
    throw new UpstreamError("audiobookshelf", "status", "Audiobookshelf has no library with the id set in ABS_LIBRARY_ID");
  }
  const seen = new Set<string>();
  const counts = { created: 0, updated: 0, unchanged: 0, reactivated: 0, missing_files: 0, series_created: 0, authors_created: 0 };
  let pages = 0;
  let listedItems = 0;
  let malformed = 0;
  let stopped: string | undefined;
  let known: KnownNames | undefined;

  walk: for (const library of libraries) {
    // A page count taken from the first answer bounds the walk, whatever later pages claim.
    let lastPage = Number.POSITIVE_INFINITY;
    for (let page = 0; page <= lastPage; page++) {
      if (listedItems >= MAX_SYNC_ITEMS) stopped = `Audiobookshelf lists more than ${MAX_SYNC_ITEMS} items`;
      else if (clock() - started >= SYNC_TIME_BUDGET_MS) stopped = `the sync took more than ${SYNC_TIME_BUDGET_MS / 60_000} minutes`;
      if (stopped) break walk;
      const answer = await abs.itemsPage(library.id, page);
      pages++;
      listedItems += answer.listed;
      malformed += answer.malformed;
      const limit = ABS_PAGE_SIZE;
      if (page === 0) lastPage = Math.max(0, Math.ceil(answer.total / limit) - 1);
      const items = answer.results.filter((item) => (item.mediaType ?? "book") === "book" && !seen.has(item.id));
      for (const item of items) seen.add(item.id);
      if (items.length > 0) {
        const listed = items.map((item) => ({ row: importRowOf(item), libraryId: library.id, filesMissing: item.isMissing === true }));
        let before: readonly Book[] = [];
        const result = await importBooks(
          db,
          listed.map((l) => l.row),
          actor,
          { reason: SYNC_REASON, seen: (rows) => (before = rows) },
        );
        counts.created += result.created;
        counts.updated += result.updated;
        counts.unchanged += result.unchanged;
        const outcome = await reconcilePage(db, listed, before, (known ??= await knownNames(db)));
        counts.reactivated += outcome.reactivated;
        counts.series_created += outcome.series_created;
        counts.authors_created += outcome.authors_created;
        counts.missing_files += listed.filter((b) => b.filesMissing).length;
      }
      const { created, updated, unchanged } = counts;
      await onPage?.({ library: library.id, page: page + 1, pages: lastPage + 1, books: seen.size, created, updated, unchanged });
      if (answer.listed < limit) break;
    }
  }

  // Scoped by ABS_LIBRARY_ID: only that library's books can be missing from the listing.
  const scope = abs.settings.libraryId ? libraries.map((l) => l.id) : undefined;
  const { archived, skipped } = stopped
    ? { archived: 0, skipped: `The listing was not read to its end (${stopped}): nothing was archived` }
    : await archiveMissing(db, seen, { scope, force });
  // A requested book the sync brought in: its request is available (./requests/status.ts).
  await settleRequests(db);
  return {
    ...counts,
    archived,
    total: seen.size,
    duration_ms: clock() - started,
    libraries: libraries.length,
    pages,
    ...(skipped ? { archive_skipped: skipped } : {}),
    ...(malformed > 0 ? { malformed } : {}),
  };
}

/**
 * Archives the active books with an abs_id (of the libraries in `scope`, when scoped) that the
 * completed listing did not contain, with the completion of their series and authors, in one batch.
 * An empty listing archives nothing (an emptied or unreadable library is likelier than a catalogue
 * whose every book was deleted), nor, without `force`, one that lacks more than
 * ARCHIVE_GUARD_SHARE of the books (at least one book may always go).
 */
async function archiveMissing(
  db: Database,
  seen: Set<string>,
  { scope, force }: { scope?: string[]; force: boolean },
): Promise<{ archived: number; skipped?: string }> {
  const synced = and(
    isNotNull(books.absId),
    eq(books.status, "active"),
    scope ? sql`${books.absLibraryId} IN (SELECT value FROM json_each(${JSON.stringify(scope)}))` : undefined,
  );
  const [gone, [library]] = await db.batch([
    db
      .select({ id: books.id, series: books.series, additionalSeries: books.additionalSeries, author: books.author })
      .from(books)
      .where(and(synced, sql`${books.absId} NOT IN (SELECT value FROM json_each(${JSON.stringify([...seen])}))`)),
    db.select({ n: sql<number>`count(*)` }).from(books).where(synced),
  ]);
  if (gone.length === 0) return { archived: 0 };
  if (seen.size === 0) return { archived: 0, skipped: `Audiobookshelf listed no book: the ${gone.length} books from it were kept` };
  const allowed = Math.max(1, Math.floor((library?.n ?? 0) * ARCHIVE_GUARD_SHARE));
  if (gone.length > allowed && !force) {
    return {
      archived: 0,
      skipped: `Audiobookshelf no longer lists ${gone.length} of the ${library?.n ?? 0} books synced from it, more than ${ARCHIVE_GUARD_SHARE * 100} %: none was archived. If they really are gone, sync again with force.`,
    };
  }
  const now = new Date().toISOString();
  await runBatch(db, [
    ...chunk(gone, ARCHIVE_SLICE).map((slice) =>
      db
        .update(books)
        .set({ status: "archived", dateUpdated: now })
        .where(sql`${books.id} IN (SELECT value FROM json_each(${JSON.stringify(slice.map((b) => b.id))}))`),
    ),
    ...completionStatements(db, ...gone),
  ]);
  return { archived: gone.length };
}

/** The LIBRARY_SYNC task: the same sync, reported as a task outcome (a failure throws and is recorded). */
export async function librarySyncTask(db: Database, config: Config) {
  const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
  return syncOutcome(await syncLibrary(db, abs, "scheduler"));
}

/** A sync as a task outcome (the task's run, or the route's recorded run). */
export function syncOutcome(result: SyncResult) {
  return { processed: result.total, succeeded: result.total, failed: 0, metadata: { ...result } };
}
