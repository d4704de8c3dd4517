import { and, count, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type SchedulerState, type Task, schedulerState, tasks } from "../db/schema";
import { AppError, NotFoundError, ServiceUnavailableError } from "../errors";
import { failureReason } from "../lib/failure";
import { type PageQuery, page } from "../lib/pagination";
import { nextRun, normalizeCron, runsBetween } from "../scheduler/schedule";
import { CRON_TRIGGERS, TASK_LIST, TASK_NAMES, type TaskDefinition, type TaskName, type TaskOutcome, TASKS, findTask, isAvailable } from "../scheduler/tasks";
import { type FailedItem, tallyFailure } from "./failed-attempts";
import { GAP_SETTINGS } from "./gaps";
import { HISTORY_RETENTION_DAYS } from "./system";

/**
 * Scheduled tasks (reference 2.8, 6.7): running them, from a Cron Trigger or on request, and what
 * the scheduler routes show. Each run is a `tasks` row that goes scheduled → running → completed
 * | failed; pause and resume are `scheduler_state` rows, read by the cron handler before each run.
 */

/** A scheduled handler runs for at most 15 minutes: a row still unfinished after that was cut off. */
const INTERRUPTED_AFTER_MS = 15 * 60_000;
/** Failed items tallied per run at most (each tally is a D1 statement). */
const MAX_TALLIED_ITEMS = 20;
const HISTORY_SHOWN = 10;
const MS_PER_HOUR = 3_600_000;

export interface Trigger {
  kind: "cron" | "manual";
  /** When the run was due: the Cron Trigger's scheduled time, or now. */
  scheduledTime?: Date;
  /** Who asked, for manual runs (src/lib/actor.ts). */
  actor?: string;
}

/** A task run as answered. */
export function taskJson(row: Task) {
  return {
    id: row.id,
    task_name: row.taskName,
    status: row.status,
    scheduled_time: row.scheduledTime,
    actual_start: row.actualStart,
    actual_end: row.actualEnd,
    duration_seconds: row.durationSeconds,
    items_processed: row.itemsProcessed,
    items_succeeded: row.itemsSucceeded,
    items_failed: row.itemsFailed,
    success_rate: row.itemsProcessed > 0 ? Math.round((row.itemsSucceeded / row.itemsProcessed) * 10_000) / 100 : 0,
    error_message: row.errorMessage,
    task_metadata: row.taskMetadata,
    date_created: row.dateCreated,
  };
}

export function resolveTask(name: string): TaskDefinition {
  const task = findTask(name);
  if (!task) throw new NotFoundError("Task", `${name} (tasks: ${TASK_NAMES.join(", ")})`);
  return task;
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

async function execute(db: Database, task: TaskDefinition): Promise<TaskOutcome> {
  if (task.kind === "database") return task.run(db);
  throw new ServiceUnavailableError(`${task.requires} is not configured: the ${task.name} task needs it, and this Worker has no ${task.requires} integration`);
}

/**
 * Runs one task now and records it. Task failures are recorded (status failed, the reason, a
 * failed_attempts tally), not thrown; only a database that cannot record the run throws.
 */
export async function runTask(db: Database, task: TaskDefinition, trigger: Trigger) {
  const scheduledTime = (trigger.scheduledTime ?? new Date()).toISOString();
  const metadata = { trigger: trigger.kind, cron: task.cron, ...(trigger.actor ? { triggered_by: trigger.actor } : {}) };
  const [, [created]] = await db.batch([
    // Rows of this task that a stopped Worker left unfinished.
    db
      .update(tasks)
      .set({ status: "failed", errorMessage: "Interrupted: the Worker stopped before the task finished" })
      .where(
        and(
          eq(tasks.taskName, task.name),
          inArray(tasks.status, ["scheduled", "running"]),
          lt(tasks.dateCreated, new Date(Date.now() - INTERRUPTED_AFTER_MS).toISOString()),
        ),
      ),
    db.insert(tasks).values({ taskName: task.name, status: "scheduled", scheduledTime, taskMetadata: metadata }).returning(),
  ]);
  if (!created) throw new Error("INSERT ... RETURNING answered no row");

  const start = new Date();
  await db.update(tasks).set({ status: "running", actualStart: start.toISOString() }).where(eq(tasks.id, created.id));

  let outcome: TaskOutcome | undefined;
  let error: unknown;
  try {
    outcome = await execute(db, task);
  } catch (thrown) {
    error = thrown;
  }
  const end = new Date();
  const finished = { actualEnd: end.toISOString(), durationSeconds: Math.floor((end.getTime() - start.getTime()) / 1000) };
  const byId = eq(tasks.id, created.id);

  let tallies: FailedItem[];
  let update;
  if (outcome) {
    tallies = (outcome.failures ?? []).slice(0, MAX_TALLIED_ITEMS);
    update = db
      .update(tasks)
      .set({
        ...finished,
        status: "completed",
        itemsProcessed: outcome.processed,
        itemsSucceeded: outcome.succeeded,
        itemsFailed: outcome.failed,
        taskMetadata: { ...metadata, ...outcome.metadata },
      })
      .where(byId)
      .returning();
  } else {
    const reason = failureReason(error, "task_failed", { task: task.name, task_id: created.id });
    tallies = [{ taskName: task.name, reason, errorCode: error instanceof AppError ? error.code : "internal_error" }];
    update = db
      .update(tasks)
      .set({ ...finished, status: "failed", errorMessage: reason })
      .where(byId)
      .returning();
  }
  const [[row]] = await db.batch([update, ...tallies.map((item) => tallyFailure(db, item))]);
  if (!row) throw new Error("UPDATE ... RETURNING answered no row");
  console.log(
    JSON.stringify({
      level: row.status === "completed" ? "info" : "warn",
      event: "task_finished",
      task: row.taskName,
      task_id: row.id,
      trigger: trigger.kind,
      status: row.status,
      duration_seconds: row.durationSeconds,
      items_processed: row.itemsProcessed,
      items_failed: row.itemsFailed,
      error: row.errorMessage ?? undefined,
    }),
  );
  return taskJson(row);
}

async function pauseStates(db: Database): Promise<Map<string, SchedulerState>> {
  const rows = await db.select().from(schedulerState).where(eq(schedulerState.paused, true));
  return new Map(rows.map((row) => [row.taskName, row]));
}

/**
 * Runs the tasks of one Cron Trigger, in table order, skipping paused ones. A task that fails is
 * recorded and the next one still runs; if a run could not even be recorded, the first such error
 * is thrown at the end, so the invocation shows as failed.
 */
export async function runCron(db: Database, cron: string, scheduledTime: Date) {
  const due = TASK_LIST.filter((task) => normalizeCron(task.cron) === normalizeCron(cron));
  if (due.length === 0) {
    console.warn(JSON.stringify({ level: "warn", event: "cron_unknown", cron, known: CRON_TRIGGERS.map((t) => t.cron) }));
  }
  const paused = await pauseStates(db);
  const ran: ReturnType<typeof taskJson>[] = [];
  const skipped: TaskName[] = [];
  let firstError: unknown;
  for (const task of due) {
    if (paused.has(task.name)) {
      skipped.push(task.name);
      console.log(JSON.stringify({ level: "info", event: "task_skipped_paused", task: task.name, cron }));
      continue;
    }
    try {
      ran.push(await runTask(db, task, { kind: "cron", scheduledTime }));
    } catch (error) {
      failureReason(error, "task_not_recorded", { task: task.name, cron });
      firstError ??= error;
    }
  }
  if (firstError !== undefined) throw firstError;
  return { cron, ran, skipped_paused: skipped };
}

/** POST trigger/:name: runs the task now, paused or not (pause stops its schedule, not an explicit request). */
export function triggerTask(db: Database, name: string, actor: string) {
  return runTask(db, resolveTask(name), { kind: "manual", actor });
}

/** POST trigger-all: every task that is not paused, one after the other. */
export async function triggerAll(db: Database, actor: string) {
  const paused = await pauseStates(db);
  const ran: ReturnType<typeof taskJson>[] = [];
  for (const task of TASK_LIST) if (!paused.has(task.name)) ran.push(await runTask(db, task, { kind: "manual", actor }));
  const skipped = TASK_LIST.filter((task) => paused.has(task.name)).map((task) => task.name);
  return {
    message: `Ran ${ran.length} tasks${skipped.length ? `; skipped paused ${skipped.join(", ")}` : ""}`,
    triggered_tasks: ran,
    skipped_paused: skipped,
  };
}

// ---------------------------------------------------------------------------------------------
// Pause and resume
// ---------------------------------------------------------------------------------------------

export async function pauseTask(db: Database, name: string, actor: string) {
  const task = resolveTask(name);
  const now = new Date().toISOString();
  const row = await db
    .insert(schedulerState)
    .values({ taskName: task.name, paused: true, pausedAt: now, pausedBy: actor, updatedAt: now })
    .onConflictDoUpdate({
      target: schedulerState.taskName,
      // Pausing a paused task keeps who paused it and when.
      set: {
        paused: true,
        pausedAt: sql`CASE WHEN ${schedulerState.paused} THEN ${schedulerState.pausedAt} ELSE ${now} END`,
        pausedBy: sql`CASE WHEN ${schedulerState.paused} THEN ${schedulerState.pausedBy} ELSE ${actor} END`,
        updatedAt: now,
      },
    })
    .returning()
    .get();
  return {
    task_name: task.name,
    paused: true,
    paused_at: row?.pausedAt ?? now,
    paused_by: row?.pausedBy ?? actor,
    next_run_time: null,
    message: `Task ${task.name} paused: its cron (${task.cron}) will not run it until it is resumed`,
  };
}

export async function resumeTask(db: Database, name: string, now = new Date()) {
  const task = resolveTask(name);
  const stamp = now.toISOString();
  await db
    .insert(schedulerState)
    .values({ taskName: task.name, paused: false, updatedAt: stamp })
    .onConflictDoUpdate({ target: schedulerState.taskName, set: { paused: false, pausedAt: null, pausedBy: null, updatedAt: stamp } });
  return {
    task_name: task.name,
    paused: false,
    next_run_time: nextRun(task.cron, now)?.toISOString() ?? null,
    message: `Task ${task.name} resumed`,
  };
}

// ---------------------------------------------------------------------------------------------
// What the routes show
// ---------------------------------------------------------------------------------------------

/** A task's schedule: its cron and next run (none while paused). */
function scheduleOf(task: TaskDefinition, state: SchedulerState | undefined, now: Date) {
  return {
    cron: task.cron,
    timezone: "UTC",
    next_run_time: state ? null : (nextRun(task.cron, now)?.toISOString() ?? null),
    paused: state !== undefined,
    paused_at: state?.pausedAt ?? null,
    paused_by: state?.pausedBy ?? null,
  };
}

function requirementOf(task: TaskDefinition) {
  return { requires: task.kind === "external" ? task.requires : null, available: isAvailable(task) };
}

/** The latest run of each task. */
async function lastRuns(db: Database): Promise<Map<string, Task>> {
  const rows = await db
    .select()
    .from(tasks)
    .where(sql`${tasks.id} IN (SELECT max(id) FROM ${tasks} WHERE task_name IN ${TASK_NAMES} GROUP BY task_name)`);
  return new Map(rows.map((row) => [row.taskName, row]));
}

export async function listTasks(db: Database, now = new Date()) {
  const [paused, last] = await Promise.all([pauseStates(db), lastRuns(db)]);
  const list = TASK_LIST.map((task) => {
    const lastRun = last.get(task.name);
    return {
      task_name: task.name,
      description: task.description,
      ...scheduleOf(task, paused.get(task.name), now),
      ...requirementOf(task),
      last_run: lastRun ? taskJson(lastRun) : null,
    };
  });
  return { tasks: list, total_tasks: list.length };
}

/** Runs due in (now, now + hours], paused tasks left out, soonest first. */
function upcoming(paused: Map<string, SchedulerState>, hours: number, now: Date) {
  const cutoff = new Date(now.getTime() + hours * MS_PER_HOUR);
  const runs = TASK_LIST.filter((task) => !paused.has(task.name)).flatMap((task) =>
    runsBetween(task.cron, now, cutoff).map((at) => ({
      task_name: task.name,
      cron: task.cron,
      next_run_time: at.toISOString(),
      hours_until_run: Math.round(((at.getTime() - now.getTime()) / MS_PER_HOUR) * 100) / 100,
    })),
  );
  runs.sort((a, b) => a.next_run_time.localeCompare(b.next_run_time) || TASK_NAMES.indexOf(a.task_name) - TASK_NAMES.indexOf(b.task_name));
  return { cutoff, runs };
}

export async function upcomingTasks(db: Database, hours: number, now = new Date()) {
  const { cutoff, runs } = upcoming(await pauseStates(db), hours, now);
  return { hours, cutoff_time: cutoff.toISOString(), upcoming_tasks: runs, total_upcoming: runs.length };
}

export async function schedulerStatus(db: Database, now = new Date()) {
  const paused = await pauseStates(db);
  // The next run of every task that is not paused, soonest first (the paused ones are listed apart).
  const next = TASK_LIST.filter((task) => !paused.has(task.name))
    .map((task) => ({ task_name: task.name, cron: task.cron, next_run_time: nextRun(task.cron, now)?.toISOString() ?? null }))
    .filter((run): run is { task_name: TaskName; cron: string; next_run_time: string } => run.next_run_time !== null)
    .sort((a, b) => a.next_run_time.localeCompare(b.next_run_time));
  return {
    scheduler_enabled: true,
    running: true,
    trigger: "Cloudflare Cron Triggers",
    timezone: "UTC",
    total_tasks: TASK_LIST.length,
    cron_triggers: CRON_TRIGGERS.length,
    paused_tasks: TASK_LIST.filter((task) => paused.has(task.name)).map((task) => task.name),
    next_tasks: next,
  };
}

/** One task: its schedule and its last runs. */
export async function taskDetail(db: Database, name: string, now = new Date()) {
  const task = resolveTask(name);
  const byName = eq(tasks.taskName, task.name);
  const [[state], rows, [counted]] = await db.batch([
    db.select().from(schedulerState).where(and(eq(schedulerState.taskName, task.name), eq(schedulerState.paused, true))),
    db.select().from(tasks).where(byName).orderBy(desc(tasks.dateCreated), desc(tasks.id)).limit(HISTORY_SHOWN),
    db.select({ total: count() }).from(tasks).where(byName),
  ]);
  return {
    task_name: task.name,
    description: task.description,
    schedule: scheduleOf(task, state, now),
    ...requirementOf(task),
    execution_history: rows.map(taskJson),
    history_count: counted?.total ?? 0,
  };
}

/** A task's runs, newest first. */
export async function executionHistory(db: Database, name: string, query: PageQuery) {
  const task = resolveTask(name);
  const byName = eq(tasks.taskName, task.name);
  const [rows, [counted]] = await db.batch([
    db.select().from(tasks).where(byName).orderBy(desc(tasks.dateCreated), desc(tasks.id)).limit(query.limit).offset(query.offset),
    db.select({ total: count() }).from(tasks).where(byName),
  ]);
  return { task_name: task.name, ...page("executions", rows.map(taskJson), counted?.total ?? 0, query) };
}

/** The schedule as deployed, and the gap analysis settings. */
export function schedulerConfiguration() {
  return {
    scheduler_enabled: true,
    trigger: "Cloudflare Cron Triggers (wrangler.toml [triggers] crons)",
    timezone: "UTC",
    task_schedules: Object.fromEntries(TASK_LIST.map((task) => [task.name, task.cron])) as Record<TaskName, string>,
    cron_triggers: CRON_TRIGGERS,
    enabled_features: Object.fromEntries(TASK_LIST.map((task) => [task.feature, isAvailable(task)])),
    gap_analysis_config: { ...GAP_SETTINGS, schedule: TASKS.GAPS.cron },
    retention: { history_retention_days: HISTORY_RETENTION_DAYS, failed_attempts_retention: "permanent" },
  };
}
