import { lt } from "drizzle-orm";
import { type Config, requireService } from "../config";
import { tasks } from "../db/schema";
import { audible } from "../integrations/audible";
import { Audiobookshelf } from "../integrations/audiobookshelf";
import { prowlarr } from "../integrations/prowlarr";
import { acquire } from "../services/acquire";
import { watchAuthors } from "../services/author-watch";
import { refreshCatalogue } from "../services/catalogue/refresh";
import { recomputeAuthors, recomputeSeries } from "../services/completion";
import { prowlarrUrlOf } from "../services/downloads/links";
import { analyzeGaps } from "../services/gaps";
import { librarySyncTask } from "../services/library-sync";
import { cleanupOldCorrections, cutoffOf } from "../services/metadata";
import { metadataCorrectionTask } from "../services/metadata-correction";
import { runQueue } from "../services/queue";
import { HISTORY_RETENTION_DAYS } from "../services/system";
import { TASK_NAMES, type TaskContext, type TaskDefinition, type TaskName, type TaskOutcome } from "./definition";

/**
 * The scheduled tasks: name → default cron → runner, the one table of them. One Cron Trigger,
 * every five minutes (wrangler.toml), runs the dispatcher (./dispatch.ts), which runs each task whose
 * own cron came due since the last tick; a task's cron lives in D1 (scheduler_state.cron) once
 * changed, else it is the default here. Crons are UTC with weekdays by name (Cloudflare counts
 * 1-7 from Sunday, APScheduler from Monday: a number would be misread one way or the other).
 * Tasks due at the same tick run in this order: the library first, then its gaps, the searches
 * that fill them, the queue that sends what they found, and the bookkeeping last.
 */

// What a task is (./definition.ts), also from here: the services name it by this path.
export { TASK_NAMES, type TaskContext, type TaskDefinition, type TaskName, type TaskOutcome, unavailableReason } from "./definition";

// ---------------------------------------------------------------------------------------------
// Runners of the database-only tasks
// ---------------------------------------------------------------------------------------------

/** Books added within this many days are "new" for METADATA_NEW (the original's window). */
export const NEW_BOOK_DAYS = 7;

async function recalculateSeries({ db }: TaskContext): Promise<TaskOutcome> {
  const result = await recomputeSeries(db).run();
  const n = result.meta.changes ?? 0;
  return { processed: n, succeeded: n, failed: 0, metadata: { series_recalculated: n } };
}

async function recalculateAuthors({ db }: TaskContext): Promise<TaskOutcome> {
  const result = await recomputeAuthors(db).run();
  const n = result.meta.changes ?? 0;
  return { processed: n, succeeded: n, failed: 0, metadata: { authors_recalculated: n } };
}

const analyze = async ({ db }: TaskContext): Promise<TaskOutcome> => analysisOutcome(await analyzeGaps(db));

/** A gap analysis as a task outcome (the task's run, or the route's recorded run). */
export function analysisOutcome(run: Awaited<ReturnType<typeof analyzeGaps>>): TaskOutcome {
  const n = run.series_analyzed + run.authors_analyzed;
  return {
    processed: n,
    succeeded: n,
    failed: 0,
    metadata: {
      gap_run_id: run.run_id,
      gaps_found: run.gaps_found,
      gaps_resolved: run.gaps_resolved,
      open_series_gaps: run.stats.open_series_gaps,
    },
  };
}

/** Deletes task and metadata-correction history older than the retention (failed attempts are kept). */
async function cleanup({ db }: TaskContext): Promise<TaskOutcome> {
  const cutoff = cutoffOf(HISTORY_RETENTION_DAYS);
  const deletedTasks = (await db.delete(tasks).where(lt(tasks.dateCreated, cutoff)).run()).meta.changes ?? 0;
  const corrections = await cleanupOldCorrections(db, HISTORY_RETENTION_DAYS);
  const n = deletedTasks + corrections.deleted_count;
  return {
    processed: n,
    succeeded: n,
    failed: 0,
    metadata: {
      retention_days: HISTORY_RETENTION_DAYS,
      cutoff,
      tasks_deleted: deletedTasks,
      corrections_deleted: corrections.deleted_count,
    },
  };
}

/** ACQUIRE: the acquire route's work, ACQUIRE_MAX_PER_RUN downloads at most. */
async function acquireGaps({ db, config }: TaskContext): Promise<TaskOutcome> {
  const client = prowlarr(config);
  return acquisitionOutcome(
    await acquire(db, (query) => client.search(query), {
      maxDownloads: config.upstream.acquireMaxPerRun,
      dryRun: false,
      prowlarrUrl: prowlarrUrlOf(config),
      language: config.upstream.releaseLanguage,
    }),
  );
}

/** An acquisition as a task outcome (the task's run, or the route's recorded run). */
export function acquisitionOutcome(result: Awaited<ReturnType<typeof acquire>>): TaskOutcome {
  return {
    processed: result.searched,
    succeeded: result.queued.length,
    failed: 0,
    metadata: {
      searched: result.searched,
      queued: result.queued.map((q) => ({ missing_book_id: q.missing_book_id, download_id: q.download_id, release: q.release.title })),
      skipped: result.skipped.length,
      not_reached: result.not_reached,
      // Releases whose links may not go to qBittorrent: the count, and the first few with why.
      refused_links: result.refused_links.length,
      ...(result.refused_links.length > 0 ? { refused_link_examples: result.refused_links.slice(0, 10) } : {}),
      ...(result.stopped ? { stopped: result.stopped } : {}),
    },
  };
}

function watchFavouriteAuthors({ db, config }: TaskContext): Promise<TaskOutcome> {
  return watchAuthors(db, audible(config));
}

/**
 * CATALOGUE: the library's series in the Audible catalogue, within a share of the invocation's
 * subrequests (src/services/catalogue/refresh.ts); every tick, so a large library is spread over
 * ticks and a tick with nothing due makes no call.
 */
async function refreshSeriesCatalogue({ db, config }: TaskContext): Promise<TaskOutcome> {
  const result = await refreshCatalogue(db, audible(config));
  return { processed: result.series_looked_up, succeeded: result.found + result.unknown, failed: result.failed, metadata: { ...result } };
}

/** LIBRARY_SYNC: POST /api/library/sync's work (src/services/library-sync.ts). */
const syncLibrary = ({ db, config }: TaskContext): Promise<TaskOutcome> => librarySyncTask(db, config);
/** METADATA_FULL: correct-all's work, books under 80 %, at most 100 a run (src/services/metadata-correction.ts). */
const correctAll = ({ db, config }: TaskContext): Promise<TaskOutcome> => metadataCorrectionTask(db, config, { threshold: 80, limit: 100 });
/** METADATA_NEW: correct-recent's work, books added in the last NEW_BOOK_DAYS days, at most 100 a run. */
const correctNew = ({ db, config }: TaskContext): Promise<TaskOutcome> =>
  metadataCorrectionTask(db, config, { addedWithinDays: NEW_BOOK_DAYS, limit: 100 });

function queue(ctx: TaskContext): Promise<TaskOutcome> {
  return runQueue(ctx, scanBookLibraries);
}

/** After a completion: asks Audiobookshelf to scan each library the sync reads (runQueue calls it only when ABS is configured). */
async function scanBookLibraries(config: Config): Promise<void> {
  const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
  for (const library of await abs.bookLibraries()) await abs.scan(library.id);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

export const TASKS: Record<TaskName, TaskDefinition> = {
  LIBRARY_SYNC: {
    name: "LIBRARY_SYNC",
    description: "Pull the Audiobookshelf library into the catalogue",
    cron: "0 2 * * *",
    feature: "library_sync",
    requires: ["audiobookshelf"],
    run: syncLibrary,
  },
  CATALOGUE: {
    name: "CATALOGUE",
    description: "Ask the Audible catalogue what each series of the library holds, a share of the library each tick",
    // Every tick but :00 and :30, where the other tasks run: with QUEUE it stays within the Free
    // plan's 50 D1 queries and 50 subrequests (test/scheduler/free-plan.test.ts).
    cron: "5-25/5,35-55/5 * * * *",
    feature: "series_catalogue",
    requires: ["audible"],
    run: refreshSeriesCatalogue,
  },
  GAPS: {
    name: "GAPS",
    description: "Find the missing books of every series and count each author's",
    cron: "0 1 * * *",
    feature: "gap_analysis",
    requires: [],
    run: analyze,
  },
  AUTHOR_WATCH: {
    name: "AUTHOR_WATCH",
    description: "Record favourite authors' books in the Audible catalogue (released or announced) that are not in the library",
    cron: "0 3 * * SUN",
    feature: "author_watch",
    requires: ["audible"],
    run: watchFavouriteAuthors,
  },
  ACQUIRE: {
    name: "ACQUIRE",
    description: "Search Prowlarr for open gaps and queue the best release of each",
    cron: "30 1 * * *",
    feature: "gap_acquisition",
    requires: ["prowlarr"],
    run: acquireGaps,
  },
  QUEUE: {
    name: "QUEUE",
    description: "Poll qBittorrent for the downloads in progress and send the queued ones that are due",
    cron: "*/5 * * * *",
    feature: "download_queue",
    requires: ["qbittorrent"],
    run: queue,
  },
  METADATA_NEW: {
    name: "METADATA_NEW",
    description: `Correct the metadata of the books added in the last ${NEW_BOOK_DAYS} days from Google Books`,
    cron: "30 4 * * SUN",
    feature: "metadata_correction",
    requires: ["google_books"],
    run: correctNew,
  },
  METADATA_FULL: {
    name: "METADATA_FULL",
    description: "Correct every book's metadata from Google Books",
    cron: "0 4 1 * *",
    feature: "metadata_correction",
    requires: ["google_books"],
    run: correctAll,
  },
  SERIES: {
    name: "SERIES",
    description: "Recalculate the completion of every series",
    cron: "0 3 2 * *",
    feature: "series_completion",
    requires: [],
    run: recalculateSeries,
  },
  AUTHOR: {
    name: "AUTHOR",
    description: "Recalculate the completion of every author",
    cron: "0 3 3 * *",
    feature: "author_completion",
    requires: [],
    run: recalculateAuthors,
  },
  CLEANUP: {
    name: "CLEANUP",
    description: `Delete task and metadata-correction history older than ${HISTORY_RETENTION_DAYS} days`,
    cron: "0 1 * * *",
    feature: "history_cleanup",
    requires: [],
    run: cleanup,
  },
};

export const TASK_LIST: readonly TaskDefinition[] = TASK_NAMES.map((name) => TASKS[name]);

/** A task by name, case-insensitively (the original upper-cased it), or undefined. */
export function findTask(name: string): TaskDefinition | undefined {
  const upper = name.trim().toUpperCase();
  return (TASK_NAMES as readonly string[]).includes(upper) ? TASKS[upper as TaskName] : undefined;
}
