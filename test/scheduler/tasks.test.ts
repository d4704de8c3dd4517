import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { primaryDatabase } from "../../src/db/client";
import { authors, books, failedAttempts, metadataCorrections, series, tasks } from "../../src/db/schema";
import { runTask } from "../../src/scheduler/runs";
import { assertValidCron, cronProblem, nextRun } from "../../src/scheduler/schedule";
import { TASK_LIST, TASKS, type TaskContext, type TaskName } from "../../src/scheduler/tasks";
import { unique } from "../fixtures";

const db = primaryDatabase(env);
const ctx: TaskContext = { db, env, config: getConfig(env) };

/** A scheduled time no other run uses, so a test finds exactly its own task rows. */
function uniqueTime(): number {
  return Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 1e12);
}

/** Runs one task as the dispatcher would, at a time of its own. */
async function run(name: TaskName) {
  const scheduledTime = new Date(uniqueTime());
  await runTask(ctx, TASKS[name], { kind: "cron", scheduledTime, cron: TASKS[name].cron });
  return scheduledTime.toISOString();
}

/** The rows that one run wrote, by task name. */
async function rowsAt(scheduledTime: string) {
  const rows = await db.select().from(tasks).where(eq(tasks.scheduledTime, scheduledTime));
  return Object.fromEntries(rows.map((row) => [row.taskName, row]));
}

describe("the task table", () => {
  it("has the default crons of DEPLOYMENT.md (Scheduled tasks), ACQUIRE and AUTHOR_WATCH in place of MAM and TOP10", () => {
    expect(Object.fromEntries(TASK_LIST.map((t) => [t.name, t.cron]))).toEqual({
      LIBRARY_SYNC: "0 2 * * *",
      CATALOGUE: "5-25/5,35-55/5 * * * *",
      GAPS: "0 1 * * *",
      AUTHOR_WATCH: "0 3 * * SUN",
      ACQUIRE: "30 1 * * *",
      QUEUE: "*/5 * * * *",
      METADATA_NEW: "30 4 * * SUN",
      METADATA_FULL: "0 4 1 * *",
      SERIES: "0 3 2 * *",
      AUTHOR: "0 3 3 * *",
      CLEANUP: "0 1 * * *",
    });
    for (const task of TASK_LIST) expect(cronProblem(task.cron), task.name).toBeNull();
  });

  it("refuses crons finer than the 5-minute tick, out-of-range fields and Quartz's `?` (issue 23, finding 6)", () => {
    const at = new Date("2026-11-27T12:00:00.000Z");
    const refused = {
      "* * * * *": /more often than the 5-minute tick/,
      "*/2 * * * *": /more often than the 5-minute tick/,
      "0,3 * * * *": /more often than the 5-minute tick/,
      "0,58 * * * *": /more often than the 5-minute tick/, // 58 and the next hour's 0
      "0,59 0,23 * * *": /more often than the 5-minute tick/, // 23:59 and the next day's 0:00
      "0 0 * * 8": /day-of-week field allows 1-7, not 8/,
      "0 0 ? * *": /character cron does not take/,
      "60 * * * *": /minute field allows 0-59, not 60/,
      "0 24 * * *": /hour field allows 0-23, not 24/,
      "0 0 0 * *": /day-of-month field allows 1-31, not 0/,
      "0 0 1 13 *": /month field allows 1-12, not 13/,
      // Fields in range that croner refuses all the same: its reason, not a thrown error.
      "0 0 * * FOO": /illegal characters/,
      "5-1 * * * *": /larger than to value/,
      "*/0 * * * *": /illegal stepping/,
    };
    for (const [cron, why] of Object.entries(refused)) expect(cronProblem(cron, at), cron).toMatch(why);
    for (const cron of ["*/5 * * * *", "0,5 * * * *", "0,55 * * * *", "30 4 * * SUN", "0 3 * * 1-7", "0 0 L * *", "*/10 1-5/2 * * MON-FRI"])
      expect(cronProblem(cron, at), cron).toBeNull();
  });

  it("computes next runs in UTC, reading weekdays as Cloudflare does (1 = Sunday)", () => {
    const friday = new Date("2026-11-27T12:00:00.000Z");
    const next = Object.fromEntries(TASK_LIST.map((t) => [t.name, nextRun(t.cron, friday)?.toISOString()]));
    expect(next).toEqual({
      LIBRARY_SYNC: "2026-11-28T02:00:00.000Z",
      CATALOGUE: "2026-11-27T12:05:00.000Z",
      GAPS: "2026-11-28T01:00:00.000Z",
      AUTHOR_WATCH: "2026-11-29T03:00:00.000Z",
      ACQUIRE: "2026-11-28T01:30:00.000Z",
      QUEUE: "2026-11-27T12:05:00.000Z",
      METADATA_NEW: "2026-11-29T04:30:00.000Z",
      METADATA_FULL: "2026-12-01T04:00:00.000Z",
      SERIES: "2026-12-02T03:00:00.000Z",
      AUTHOR: "2026-12-03T03:00:00.000Z",
      CLEANUP: "2026-11-28T01:00:00.000Z",
    });
    expect(nextRun("0 3 * * 1", friday)?.toISOString()).toBe("2026-11-29T03:00:00.000Z");
    expect(() => assertValidCron("0 3 * *")).toThrow();
    expect(() => assertValidCron("0 0 3 * * *")).toThrow();
  });

  it("records a task whose service is not configured as skipped, with the bindings to set, and tallies nothing", async () => {
    const tally = async () => (await db.select().from(failedAttempts).where(eq(failedAttempts.taskName, "ACQUIRE"))).length;
    const before = await tally();
    const at = await run("ACQUIRE");
    const row = (await rowsAt(at)).ACQUIRE!;
    expect(row).toMatchObject({
      status: "skipped",
      errorMessage: expect.stringContaining("Prowlarr is not configured (set PROWLARR_URL"),
      itemsProcessed: 0,
    });
    expect(await tally()).toBe(before);
  });
});

describe("the database tasks", () => {
  it("SERIES and AUTHOR recalculate stale completion", async () => {
    const name = unique("series");
    const [s] = await db.insert(series).values({ name, totalBooksInSeries: 2, booksOwned: 0, booksMissing: 0 }).returning();
    const [a] = await db.insert(authors).values({ name, totalAudiobooksExternal: 4 }).returning();
    await db.insert(books).values({ title: unique("b"), series: name, author: name });
    await run("SERIES");
    expect(await db.select().from(series).where(eq(series.id, s!.id)).get()).toMatchObject({
      booksOwned: 1,
      booksMissing: 1,
      completionPercentage: 50,
      completionStatus: "partial",
    });
    expect((await db.select().from(authors).where(eq(authors.id, a!.id)).get())?.audiobooksOwned).toBe(0);
    await run("AUTHOR");
    expect(await db.select().from(authors).where(eq(authors.id, a!.id)).get()).toMatchObject({ audiobooksOwned: 1, audiobooksMissing: 3 });
  });

  it("CLEANUP deletes task and correction history older than 30 days", async () => {
    const old = new Date(Date.now() - 31 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 29 * 86_400_000).toISOString();
    const [oldTask, recentTask] = await db
      .insert(tasks)
      .values([
        { taskName: "SERIES", status: "completed", dateCreated: old },
        { taskName: "SERIES", status: "completed", dateCreated: recent },
      ])
      .returning();
    const [book] = await db
      .insert(books)
      .values({ title: unique("b") })
      .returning();
    const [oldFix, recentFix] = await db
      .insert(metadataCorrections)
      .values([
        { bookId: book!.id, fieldName: "title", source: "Manual", correctionDate: old },
        { bookId: book!.id, fieldName: "title", source: "Manual", correctionDate: recent },
      ])
      .returning();
    const at = await run("CLEANUP");
    const row = (await rowsAt(at)).CLEANUP!;
    expect(row.status).toBe("completed");
    expect(row.itemsProcessed).toBeGreaterThanOrEqual(2);
    expect(row.taskMetadata).toMatchObject({
      retention_days: 30,
      tasks_deleted: expect.any(Number),
      corrections_deleted: expect.any(Number),
    });
    const exists = async (table: typeof tasks | typeof metadataCorrections, id: number) =>
      (await db.select().from(table).where(eq(table.id, id))).length === 1;
    expect(await exists(tasks, oldTask!.id)).toBe(false);
    expect(await exists(tasks, recentTask!.id)).toBe(true);
    expect(await exists(metadataCorrections, oldFix!.id)).toBe(false);
    expect(await exists(metadataCorrections, recentFix!.id)).toBe(true);
  });

  it("marks a run that a stopped Worker left unfinished as failed when the task runs again", async () => {
    const [stuck] = await db
      .insert(tasks)
      .values({ taskName: "AUTHOR", status: "running", dateCreated: new Date(Date.now() - 3_600_000).toISOString() })
      .returning();
    await run("AUTHOR");
    expect(await db.select().from(tasks).where(eq(tasks.id, stuck!.id)).get()).toMatchObject({
      status: "failed",
      errorMessage: "Interrupted: the Worker stopped before the task finished",
    });
  });

  it("tallies a failed run in failed_attempts with its reason, once per run", async () => {
    const taskName = "AUTHOR";
    const tallied = async () =>
      (await db.select().from(failedAttempts).where(eq(failedAttempts.taskName, taskName))).map((row) => [
        row.reason,
        row.errorCode,
        row.attemptCount,
      ]);
    const before = await tallied();
    const broken = { ...TASKS.AUTHOR, run: () => Promise.reject(new TypeError("boom")) };
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await runTask(ctx, broken, { kind: "manual", actor: "test" });
      expect(await tallied()).toEqual([...before, ["Unexpected error (TypeError); see the Worker logs", "internal_error", 1]]);
      await runTask(ctx, TASKS.AUTHOR, { kind: "manual", actor: "test" });
      expect(await tallied()).toHaveLength(before.length + 1);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("logs a run that failed unexpectedly for the operator: task_failed at error with the cause, task_finished at warn", async () => {
    // SERIES with a bug in it: an error nobody planned for, not an upstream's refusal.
    const broken = { ...TASKS.SERIES, run: () => Promise.reject(new TypeError("Cannot read properties of undefined")) };
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const lines = (spy: typeof log) => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    try {
      const row = await runTask(ctx, broken, { kind: "manual", actor: "test" });
      expect(row).toMatchObject({ status: "failed", error_message: "Unexpected error (TypeError); see the Worker logs" });
      expect(lines(error)).toContainEqual(
        expect.objectContaining({
          level: "error",
          event: "task_failed",
          task: "SERIES",
          task_id: row.id,
          error: "TypeError: Cannot read properties of undefined",
        }),
      );
      expect(lines(log)).toContainEqual(
        expect.objectContaining({ level: "warn", event: "task_finished", task: "SERIES", task_id: row.id, status: "failed" }),
      );
    } finally {
      error.mockRestore();
      log.mockRestore();
    }
  });
});
