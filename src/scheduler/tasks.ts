import { and, asc, gt, gte, inArray, lt, sql } from "drizzle-orm";
import { chunk } from "../db/batch";
import type { Database } from "../db/client";
import { books, tasks } from "../db/schema";
import { failureReason } from "../lib/failure";
import { completenessOf } from "../services/books";
import { recomputeAuthors, recomputeSeries } from "../services/completion";
import type { FailedItem } from "../services/failed-attempts";
import { analyzeGaps } from "../services/gaps";
import { cleanupOldCorrections, cutoffOf } from "../services/metadata";
import { HISTORY_RETENTION_DAYS } from "../services/system";

/**
 * The scheduled tasks: name → cron → runner, the one table of them. The crons are the original's
 * defaults (reference 5, TASK_*_TIME; CLEANUP daily 01:00 as its cleanup job), in UTC, with
 * weekdays by name: the original's "6" meant Sunday (APScheduler counts from Monday), and
 * Cloudflare counts 1-7 from Sunday, so a number would be misread either way. wrangler.toml
 * `[triggers] crons` lists each distinct cron once (a test holds the two together); tasks that
 * share a cron run together, in this order.
 */

export const TASK_NAMES = ["MAM", "TOP10", "METADATA_FULL", "METADATA_NEW", "SERIES", "AUTHOR", "GAPS", "CLEANUP"] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Outside services some tasks need, and that this Worker has no binding for yet. */
export type ExternalService = "MAM" | "Google Books";

/**
 * The outside services that are configured. None is yet: when one gets its binding (a secret
 * parsed in src/config.ts), its tasks get a runner here and the service joins this set.
 */
const CONFIGURED_SERVICES: ReadonlySet<ExternalService> = new Set<ExternalService>();

/** What one run did; `failures` are the items to tally in failed_attempts. */
export interface TaskOutcome {
  processed: number;
  succeeded: number;
  failed: number;
  metadata?: Record<string, unknown>;
  failures?: FailedItem[];
}

interface TaskBase {
  name: TaskName;
  description: string;
  cron: string;
  /** The feature it provides, as /api/scheduler/configuration names it (the original's names). */
  feature: string;
}
export type TaskDefinition = TaskBase & ({ kind: "database"; run: (db: Database) => Promise<TaskOutcome> } | { kind: "external"; requires: ExternalService });

export function isAvailable(task: TaskDefinition): boolean {
  return task.kind === "database" || CONFIGURED_SERVICES.has(task.requires);
}

// ---------------------------------------------------------------------------------------------
// Runners of the database-only tasks
// ---------------------------------------------------------------------------------------------

/** Books added within this many days are "new" for METADATA_NEW (the original's window). */
export const NEW_BOOK_DAYS = 7;
const BOOKS_PER_READ = 500;
/** Books per UPDATE: three bound parameters each, within D1's 100. */
const BOOKS_PER_UPDATE = 30;

async function recalculateSeries(db: Database): Promise<TaskOutcome> {
  const result = await recomputeSeries(db).run();
  const n = result.meta.changes ?? 0;
  return { processed: n, succeeded: n, failed: 0, metadata: { series_recalculated: n } };
}

async function recalculateAuthors(db: Database): Promise<TaskOutcome> {
  const result = await recomputeAuthors(db).run();
  const n = result.meta.changes ?? 0;
  return { processed: n, succeeded: n, failed: 0, metadata: { authors_recalculated: n } };
}

async function analyze(db: Database): Promise<TaskOutcome> {
  const run = await analyzeGaps(db);
  const n = run.series_analyzed + run.authors_analyzed;
  return {
    processed: n,
    succeeded: n,
    failed: 0,
    metadata: { gap_run_id: run.run_id, gaps_found: run.gaps_found, gaps_resolved: run.gaps_resolved, open_series_gaps: run.stats.open_series_gaps },
  };
}

/**
 * Recomputes metadata completeness (the books service's own formula) of the books added in the
 * last NEW_BOOK_DAYS days, writing only the values that differ; date_updated is left as it was,
 * since the book itself did not change. A slice that fails to write is tallied book by book.
 */
async function refreshNewBooks(db: Database): Promise<TaskOutcome> {
  const since = cutoffOf(NEW_BOOK_DAYS);
  const failures: FailedItem[] = [];
  let processed = 0;
  let updated = 0;
  for (let afterId = 0; ; ) {
    const rows = await db
      .select()
      .from(books)
      .where(and(gte(books.dateAdded, since), gt(books.id, afterId)))
      .orderBy(asc(books.id))
      .limit(BOOKS_PER_READ);
    processed += rows.length;
    const stale = rows.map((row) => ({ row, pct: completenessOf(row) })).filter(({ row, pct }) => pct !== row.metadataCompletenessPercent);
    for (const slice of chunk(stale, BOOKS_PER_UPDATE)) {
      try {
        await db
          .update(books)
          .set({
            metadataCompletenessPercent: sql`CASE ${books.id} ${sql.join(slice.map(({ row, pct }) => sql`WHEN ${row.id} THEN ${pct}`), sql` `)} END`,
            dateUpdated: sql`${books.dateUpdated}`,
          })
          .where(inArray(books.id, slice.map(({ row }) => row.id)));
        updated += slice.length;
      } catch (error) {
        const reason = failureReason(error, "task_item_failed", { task: "METADATA_NEW" });
        failures.push(...slice.map(({ row }) => ({ taskName: "METADATA_NEW", itemId: row.id, itemName: row.title, reason, errorCode: "database_error" })));
      }
    }
    if (rows.length < BOOKS_PER_READ) break;
    afterId = rows.at(-1)!.id;
  }
  return {
    processed,
    succeeded: processed - failures.length,
    failed: failures.length,
    failures,
    metadata: { window_days: NEW_BOOK_DAYS, added_since: since, books_updated: updated },
  };
}

/** Deletes task and metadata-correction history older than the retention (failed attempts are kept). */
async function cleanup(db: Database): Promise<TaskOutcome> {
  const cutoff = cutoffOf(HISTORY_RETENTION_DAYS);
  const deletedTasks = (await db.delete(tasks).where(lt(tasks.dateCreated, cutoff)).run()).meta.changes ?? 0;
  const corrections = await cleanupOldCorrections(db, HISTORY_RETENTION_DAYS);
  const n = deletedTasks + corrections.deleted_count;
  return {
    processed: n,
    succeeded: n,
    failed: 0,
    metadata: { retention_days: HISTORY_RETENTION_DAYS, cutoff, tasks_deleted: deletedTasks, corrections_deleted: corrections.deleted_count },
  };
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

export const TASKS: Record<TaskName, TaskDefinition> = {
  MAM: { name: "MAM", description: "Scrape MyAnonamouse for new guides and torrents", cron: "0 2 * * *", feature: "mam_scraping", kind: "external", requires: "MAM" },
  TOP10: { name: "TOP10", description: "Discover the top-10 audiobooks of the enabled genres on MAM", cron: "0 3 * * SUN", feature: "top10_discovery", kind: "external", requires: "MAM" },
  METADATA_FULL: {
    name: "METADATA_FULL",
    description: "Correct every book's metadata from Google Books and Goodreads",
    cron: "0 4 1 * *",
    feature: "metadata_correction",
    kind: "external",
    requires: "Google Books",
  },
  METADATA_NEW: {
    name: "METADATA_NEW",
    description: `Recompute metadata completeness of the books added in the last ${NEW_BOOK_DAYS} days`,
    cron: "30 4 * * SUN",
    feature: "metadata_completeness",
    kind: "database",
    run: refreshNewBooks,
  },
  SERIES: { name: "SERIES", description: "Recalculate the completion of every series", cron: "0 3 2 * *", feature: "series_completion", kind: "database", run: recalculateSeries },
  AUTHOR: { name: "AUTHOR", description: "Recalculate the completion of every author", cron: "0 3 3 * *", feature: "author_completion", kind: "database", run: recalculateAuthors },
  GAPS: { name: "GAPS", description: "Find the missing books of every series and count each author's", cron: "0 1 * * *", feature: "gap_analysis", kind: "database", run: analyze },
  CLEANUP: {
    name: "CLEANUP",
    description: `Delete task and metadata-correction history older than ${HISTORY_RETENTION_DAYS} days`,
    cron: "0 1 * * *",
    feature: "history_cleanup",
    kind: "database",
    run: cleanup,
  },
};

export const TASK_LIST: readonly TaskDefinition[] = TASK_NAMES.map((name) => TASKS[name]);

/** The distinct crons, in table order, each with the tasks it runs: what wrangler.toml must list. */
export const CRON_TRIGGERS: readonly { cron: string; tasks: TaskName[] }[] = [...new Set(TASK_LIST.map((task) => task.cron))].map((cron) => ({
  cron,
  tasks: TASK_LIST.filter((task) => task.cron === cron).map((task) => task.name),
}));

/** A task by name, case-insensitively (the original upper-cased it), or undefined. */
export function findTask(name: string): TaskDefinition | undefined {
  const upper = name.trim().toUpperCase();
  return (TASK_NAMES as readonly string[]).includes(upper) ? TASKS[upper as TaskName] : undefined;
}
