import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import worker from "../../src/index";
import { primaryDatabase } from "../../src/db/client";
import { authors, books, failedAttempts, metadataCorrections, series, tasks } from "../../src/db/schema";
import { assertValidCron, nextRun } from "../../src/scheduler/schedule";
import { CRON_TRIGGERS, TASK_LIST, TASKS, type TaskName } from "../../src/scheduler/tasks";
import { upcomingTasks } from "../../src/services/scheduler";
import { unique } from "../fixtures";
import { ISO, api } from "../library";

const db = primaryDatabase(env);

/** The `crons = [...]` of one table of wrangler.toml, e.g. "triggers" or "env.production.triggers". */
function cronsIn(table: string): string[] {
  const start = wranglerToml.indexOf(`\n[${table}]\n`);
  expect(start, `wrangler.toml has no [${table}]`).toBeGreaterThanOrEqual(0);
  const body = wranglerToml.slice(start + table.length + 4).split(/\n\[/)[0]!;
  const list = /^crons\s*=\s*\[([^\]]*)\]/m.exec(body);
  expect(list, `[${table}] has no crons`).not.toBeNull();
  return JSON.parse(`[${list![1]!.replace(/,\s*$/, "")}]`);
}

/** A scheduled time no other run uses, so a test finds exactly its own task rows. */
function uniqueTime(): number {
  return Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 1e12);
}

/** Fires a Cron Trigger at the Worker's scheduled() handler, as Cloudflare would. */
async function fire(cron: string, scheduledTime = uniqueTime()) {
  const controller = createScheduledController({ cron, scheduledTime });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
  return new Date(scheduledTime).toISOString();
}

/** The rows that one firing wrote, by task name. */
async function rowsAt(scheduledTime: string) {
  const rows = await db.select().from(tasks).where(eq(tasks.scheduledTime, scheduledTime));
  return Object.fromEntries(rows.map((row) => [row.taskName, row]));
}

describe("the schedule", () => {
  it("is wrangler.toml's Cron Triggers, at the top level and in production", () => {
    const code = CRON_TRIGGERS.map((t) => t.cron).sort();
    expect(cronsIn("triggers").sort()).toEqual(code);
    expect(cronsIn("env.production.triggers").sort()).toEqual(code);
    expect(new Set(code).size).toBe(code.length);
    expect(code).toHaveLength(7);
  });

  it("keeps the original's times, with GAPS and CLEANUP sharing a cron", () => {
    expect(Object.fromEntries(TASK_LIST.map((t) => [t.name, t.cron]))).toEqual({
      MAM: "0 2 * * *",
      TOP10: "0 3 * * SUN",
      METADATA_FULL: "0 4 1 * *",
      METADATA_NEW: "30 4 * * SUN",
      SERIES: "0 3 2 * *",
      AUTHOR: "0 3 3 * *",
      GAPS: "0 1 * * *",
      CLEANUP: "0 1 * * *",
    });
    expect(CRON_TRIGGERS.find((t) => t.cron === "0 1 * * *")?.tasks).toEqual(["GAPS", "CLEANUP"]);
  });

  it("computes next runs in UTC, reading weekdays as Cloudflare does (1 = Sunday)", () => {
    const friday = new Date("2026-11-27T12:00:00.000Z");
    const next = Object.fromEntries(TASK_LIST.map((t) => [t.name, nextRun(t.cron, friday)?.toISOString()]));
    expect(next).toEqual({
      MAM: "2026-11-28T02:00:00.000Z",
      TOP10: "2026-11-29T03:00:00.000Z",
      METADATA_FULL: "2026-12-01T04:00:00.000Z",
      METADATA_NEW: "2026-11-29T04:30:00.000Z",
      SERIES: "2026-12-02T03:00:00.000Z",
      AUTHOR: "2026-12-03T03:00:00.000Z",
      GAPS: "2026-11-28T01:00:00.000Z",
      CLEANUP: "2026-11-28T01:00:00.000Z",
    });
    expect(nextRun("0 3 * * 1", friday)?.toISOString()).toBe("2026-11-29T03:00:00.000Z");
    expect(() => assertValidCron("0 3 * *")).toThrow();
    expect(() => assertValidCron("0 0 3 * * *")).toThrow();
  });

  it("lists the runs of the next hours, soonest first", async () => {
    const friday = new Date("2026-11-27T12:00:00.000Z");
    const { upcoming_tasks, total_upcoming, cutoff_time } = await upcomingTasks(db, 24, friday);
    expect(cutoff_time).toBe("2026-11-28T12:00:00.000Z");
    // Unless a test has paused one of them, these three run in the next 24 hours.
    expect(upcoming_tasks.map((t) => [t.task_name, t.next_run_time, t.hours_until_run])).toEqual([
      ["GAPS", "2026-11-28T01:00:00.000Z", 13],
      ["CLEANUP", "2026-11-28T01:00:00.000Z", 13],
      ["MAM", "2026-11-28T02:00:00.000Z", 14],
    ]);
    expect(total_upcoming).toBe(3);
    const week = await upcomingTasks(db, 168, friday);
    expect(week.upcoming_tasks.filter((t) => t.task_name === "GAPS")).toHaveLength(7);
    expect(week.upcoming_tasks.filter((t) => t.task_name === "TOP10")).toHaveLength(1);
  });
});

describe("scheduled()", () => {
  it.each(CRON_TRIGGERS.map((t) => [t.cron, t.tasks] as const))("runs %s: %j, each recorded as a task row", async (cron, names) => {
    const at = await fire(cron);
    const rows = await rowsAt(at);
    expect(Object.keys(rows).sort()).toEqual([...names].sort());
    for (const name of names) {
      const row = rows[name]!;
      const task = TASKS[name as TaskName];
      expect(row).toMatchObject({
        scheduledTime: at,
        actualStart: ISO,
        actualEnd: ISO,
        durationSeconds: expect.any(Number),
        taskMetadata: expect.objectContaining({ trigger: "cron", cron }),
      });
      if (task.kind === "database") {
        expect(row.status, `${name}: ${row.errorMessage}`).toBe("completed");
        expect(row.errorMessage).toBeNull();
        expect(row.itemsSucceeded + row.itemsFailed).toBe(row.itemsProcessed);
      } else {
        expect(row.status).toBe("failed");
        expect(row.errorMessage).toBe(`${task.requires} is not configured: the ${name} task needs it, and this Worker has no ${task.requires} integration`);
      }
    }
  });

  it("does not run a paused task, and runs it again once resumed", async () => {
    expect((await api("/api/scheduler/task/gaps/pause", { method: "PUT" })).status).toBe(200);
    try {
      const at = await fire("0 1 * * *");
      expect(Object.keys(await rowsAt(at))).toEqual(["CLEANUP"]);
    } finally {
      expect((await api("/api/scheduler/task/GAPS/resume", { method: "PUT" })).status).toBe(200);
    }
    const again = await fire("0 1 * * *");
    expect(Object.keys(await rowsAt(again)).sort()).toEqual(["CLEANUP", "GAPS"]);
  });

  it("ignores a cron it does not know", async () => {
    const at = await fire("*/5 * * * *");
    expect(await rowsAt(at)).toEqual({});
  });

  it("tallies each failure of a task that cannot run in failed_attempts", async () => {
    const tally = () =>
      db
        .select()
        .from(failedAttempts)
        .where(and(eq(failedAttempts.taskName, "MAM")))
        .then((rows) => rows.filter((row) => row.itemId === null && row.itemName === null));
    const before = (await tally())[0]?.attemptCount ?? 0;
    await fire("0 2 * * *");
    await fire("0 2 * * *");
    const rows = await tally();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ attemptCount: before + 2, reason: expect.stringContaining("MAM is not configured"), errorCode: "service_unavailable", lastAttempt: ISO });
  });
});

describe("the database tasks", () => {
  it("SERIES and AUTHOR recalculate stale completion", async () => {
    const name = unique("series");
    const [s] = await db.insert(series).values({ name, totalBooksInSeries: 2, booksOwned: 0, booksMissing: 0 }).returning();
    const [a] = await db.insert(authors).values({ name, totalAudiobooksExternal: 4 }).returning();
    await db.insert(books).values({ title: unique("b"), series: name, author: name });
    await fire("0 3 2 * *");
    expect(await db.select().from(series).where(eq(series.id, s!.id)).get()).toMatchObject({ booksOwned: 1, booksMissing: 1, completionPercentage: 50, completionStatus: "partial" });
    expect((await db.select().from(authors).where(eq(authors.id, a!.id)).get())?.audiobooksOwned).toBe(0);
    await fire("0 3 3 * *");
    expect(await db.select().from(authors).where(eq(authors.id, a!.id)).get()).toMatchObject({ audiobooksOwned: 1, audiobooksMissing: 3 });
  });

  it("METADATA_NEW recomputes the completeness of books added in the last 7 days, leaving date_updated", async () => {
    const stamp = "2030-01-01T00:00:00.000Z";
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    const [recent] = await db.insert(books).values({ title: unique("b"), author: "A", series: "S", metadataCompletenessPercent: 0, dateUpdated: stamp }).returning();
    const [old] = await db.insert(books).values({ title: unique("b"), author: "A", metadataCompletenessPercent: 0, dateAdded: eightDaysAgo }).returning();
    const at = await fire("30 4 * * SUN");
    const row = (await rowsAt(at)).METADATA_NEW!;
    expect(row.taskMetadata).toMatchObject({ window_days: 7, books_updated: expect.any(Number) });
    expect((row.taskMetadata as { books_updated: number }).books_updated).toBeGreaterThanOrEqual(1);
    expect(await db.select().from(books).where(eq(books.id, recent!.id)).get()).toMatchObject({ metadataCompletenessPercent: 30, dateUpdated: stamp });
    expect((await db.select().from(books).where(eq(books.id, old!.id)).get())?.metadataCompletenessPercent).toBe(0);
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
    const [book] = await db.insert(books).values({ title: unique("b") }).returning();
    const [oldFix, recentFix] = await db
      .insert(metadataCorrections)
      .values([
        { bookId: book!.id, fieldName: "title", source: "Manual", correctionDate: old },
        { bookId: book!.id, fieldName: "title", source: "Manual", correctionDate: recent },
      ])
      .returning();
    const at = await fire("0 1 * * *");
    const row = (await rowsAt(at)).CLEANUP!;
    expect(row.status).toBe("completed");
    expect(row.itemsProcessed).toBeGreaterThanOrEqual(2);
    expect(row.taskMetadata).toMatchObject({ retention_days: 30, tasks_deleted: expect.any(Number), corrections_deleted: expect.any(Number) });
    const exists = async (table: typeof tasks | typeof metadataCorrections, id: number) => (await db.select().from(table).where(eq(table.id, id))).length === 1;
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
    await fire("0 3 3 * *");
    expect(await db.select().from(tasks).where(eq(tasks.id, stuck!.id)).get()).toMatchObject({
      status: "failed",
      errorMessage: "Interrupted: the Worker stopped before the task finished",
    });
  });
});
