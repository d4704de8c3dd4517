import { and, count, desc, eq, inArray, lt, max, sql } from "drizzle-orm";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { type SchedulerState, schedulerState, type Task, tasks } from "../db/schema";
import { AppError, NotFoundError, ValidationError } from "../errors";
import { failureReason, TaskError } from "../lib/failure";
import { type PageQuery, page } from "../lib/pagination";
import { cronProblem, nextRun, normalizeCron, runsBetween, TICK_CRON, TICK_MS } from "../scheduler/schedule";
import {
  findTask,
  TASK_LIST,
  TASK_NAMES,
  TASKS,
  type TaskContext,
  type TaskDefinition,
  type TaskName,
  type TaskOutcome,
  unavailableReason,
} from "../scheduler/tasks";
import { type FailedItem, tallyFailure } from "./failed-attempts";
import { GAP_SETTINGS } from "./gaps";
import { HISTORY_RETENTION_DAYS } from "./system";

/**
 * Scheduled tasks (reference 2.8, 6.7): running them, from the dispatcher (src/scheduler/dispatch.ts)
 * or on request, and what the scheduler routes show. Each run is a `tasks` row that goes scheduled
 * → running → completed | failed, or straight to skipped when a service it needs is not configured.
 * Pause, resume and a changed cron are `scheduler_state` rows, read by the dispatcher each tick.
 */

/** A scheduled handler runs for at most 15 minutes: a row still unfinished after that was cut off. */
const INTERRUPTED_AFTER_MS = 15 * 60_000;
/** Failed items tallied per run at most (each tally is a D1 statement). */
const MAX_TALLIED_ITEMS = 20;
const HISTORY_SHOWN = 10;
const MS_PER_HOUR = 3_600_000;

export interface Trigger {
  kind: "cron" | "manual";
  /** The cron that made it due (dispatcher runs). */
  cron?: string;
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

/**
 * Runs one task now and records it. Task failures are recorded (status failed, the reason, a
 * failed_attempts tally), not thrown; only a database that cannot record the run throws. A task
 * whose service is not configured is recorded as `skipped` with the bindings to set.
 */
export async function runTask(ctx: TaskContext, task: TaskDefinition, trigger: Trigger) {
  const { db } = ctx;
  const scheduledTime = (trigger.scheduledTime ?? new Date()).toISOString();
  const metadata = {
    trigger: trigger.kind,
    ...(trigger.cron ? { cron: trigger.cron } : {}),
    ...(trigger.actor ? { triggered_by: trigger.actor } : {}),
  };
  const unavailable = unavailableReason(task, ctx.config);
  const now = new Date().toISOString();
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
    unavailable
      ? db
          .insert(tasks)
          .values({
            taskName: task.name,
            status: "skipped",
            scheduledTime,
            actualStart: now,
            actualEnd: now,
            durationSeconds: 0,
            errorMessage: unavailable,
            taskMetadata: metadata,
          })
          .returning()
      : db.insert(tasks).values({ taskName: task.name, status: "scheduled", scheduledTime, taskMetadata: metadata }).returning(),
  ]);
  if (!created) throw new Error("INSERT ... RETURNING answered no row");
  if (unavailable) {
    console.log(
      JSON.stringify({
        level: "info",
        event: "task_skipped",
        task: task.name,
        task_id: created.id,
        trigger: trigger.kind,
        reason: unavailable,
      }),
    );
    return taskJson(created);
  }

  const start = new Date();
  await db.update(tasks).set({ status: "running", actualStart: start.toISOString() }).where(eq(tasks.id, created.id));

  let outcome: TaskOutcome | undefined;
  let error: unknown;
  try {
    outcome = await task.run(ctx);
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
    // A run that failed part way still records what it did.
    const partial = error instanceof TaskError ? error.metadata : undefined;
    const cause = error instanceof TaskError ? error.cause : error;
    const reason = failureReason(cause, "task_failed", { task: task.name, task_id: created.id });
    tallies = [{ taskName: task.name, reason, errorCode: cause instanceof AppError ? cause.code : "internal_error" }];
    update = db
      .update(tasks)
      .set({ ...finished, status: "failed", errorMessage: reason, ...(partial ? { taskMetadata: { ...metadata, ...partial } } : {}) })
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

/** Every task's scheduler_state row (pause, changed cron, dispatcher mark), by name. */
export async function schedulerStates(db: Database): Promise<Map<string, SchedulerState>> {
  const rows = await db.select().from(schedulerState);
  return new Map(rows.map((row) => [row.taskName, row]));
}

/** A task's cron: the one stored in D1 when changed, else the table's default. */
export function cronOf(task: TaskDefinition, state: SchedulerState | undefined): string {
  return state?.cron ?? task.cron;
}

/** POST trigger/:name: runs the task now, paused or not (pause stops its schedule, not an explicit request). */
export function triggerTask(ctx: TaskContext, name: string, actor: string) {
  return runTask(ctx, resolveTask(name), { kind: "manual", actor });
}

/** POST trigger-all: every task that is not paused, one after the other. */
export async function triggerAll(ctx: TaskContext, actor: string) {
  const states = await schedulerStates(ctx.db);
  const paused = (task: TaskDefinition) => states.get(task.name)?.paused === true;
  const ran: ReturnType<typeof taskJson>[] = [];
  for (const task of TASK_LIST) if (!paused(task)) ran.push(await runTask(ctx, task, { kind: "manual", actor }));
  const skipped = TASK_LIST.filter(paused).map((task) => task.name);
  return {
    message: `Ran ${ran.length} tasks${skipped.length ? `; skipped paused ${skipped.join(", ")}` : ""}`,
    triggered_tasks: ran,
    skipped_paused: skipped,
  };
}

// ---------------------------------------------------------------------------------------------
// Pause, resume and the schedule
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
    message: `Task ${task.name} paused: its cron (${cronOf(task, row)}) will not run it until it is resumed`,
  };
}

export async function resumeTask(db: Database, name: string, now = new Date()) {
  const task = resolveTask(name);
  const stamp = now.toISOString();
  const row = await db
    .insert(schedulerState)
    .values({ taskName: task.name, paused: false, updatedAt: stamp })
    .onConflictDoUpdate({ target: schedulerState.taskName, set: { paused: false, pausedAt: null, pausedBy: null, updatedAt: stamp } })
    .returning()
    .get();
  return {
    task_name: task.name,
    paused: false,
    next_run_time: nextRun(cronOf(task, row), now)?.toISOString() ?? null,
    message: `Task ${task.name} resumed`,
  };
}

/**
 * PUT task/:name/schedule: stores the task's cron (422 when it is not one Cloudflare would run).
 * The dispatcher's mark moves to now, so the new cron counts from the change: a time it would
 * have had earlier today is not "missed" and run at the next tick.
 */
export async function setSchedule(db: Database, name: string, cron: string, actor: string, now = new Date()) {
  const task = resolveTask(name);
  const problem = cronProblem(cron);
  if (problem) throw new ValidationError([{ path: "body.cron", message: `The cron ${problem}`, code: "invalid_cron" }]);
  const expression = normalizeCron(cron);
  const stamp = now.toISOString();
  // The default is stored as NULL, so a later change of the default applies to this task again.
  const stored = expression === task.cron ? null : expression;
  const row = await db
    .insert(schedulerState)
    .values({ taskName: task.name, cron: stored, cronUpdatedBy: actor, lastCheckedAt: stamp, updatedAt: stamp })
    .onConflictDoUpdate({
      target: schedulerState.taskName,
      // The mark never moves back (a tick's time is never after now, so this is now in practice).
      set: {
        cron: stored,
        cronUpdatedBy: actor,
        lastCheckedAt: sql`max(coalesce(${schedulerState.lastCheckedAt}, ''), ${stamp})`,
        updatedAt: stamp,
      },
    })
    .returning()
    .get();
  console.log(JSON.stringify({ level: "info", event: "task_schedule_changed", task: task.name, cron: expression, by: actor }));
  return {
    task_name: task.name,
    cron: expression,
    default_cron: task.cron,
    is_default: stored === null,
    timezone: "UTC",
    paused: row?.paused ?? false,
    next_run_time: row?.paused ? null : (nextRun(expression, now)?.toISOString() ?? null),
    message: `Task ${task.name} now runs on ${expression} (UTC), at the first ${TICK_CRON} tick at or after each time`,
  };
}

// ---------------------------------------------------------------------------------------------
// What the routes show
// ---------------------------------------------------------------------------------------------

/** A task's schedule: its cron and next run (none while paused). */
function scheduleOf(task: TaskDefinition, state: SchedulerState | undefined, now: Date) {
  const cron = cronOf(task, state);
  const paused = state?.paused === true;
  return {
    cron,
    default_cron: task.cron,
    timezone: "UTC",
    next_run_time: paused ? null : (nextRun(cron, now)?.toISOString() ?? null),
    paused,
    paused_at: paused ? (state?.pausedAt ?? null) : null,
    paused_by: paused ? (state?.pausedBy ?? null) : null,
    last_checked_at: state?.lastCheckedAt ?? null,
  };
}

function requirementOf(task: TaskDefinition, config: Config) {
  const reason = unavailableReason(task, config);
  return { requires: task.requires, available: reason === null, unavailable_reason: reason };
}

/** The latest run of each task. */
async function lastRuns(db: Database): Promise<Map<string, Task>> {
  const rows = await db
    .select()
    .from(tasks)
    .where(sql`${tasks.id} IN (SELECT max(id) FROM ${tasks} WHERE task_name IN ${TASK_NAMES} GROUP BY task_name)`);
  return new Map(rows.map((row) => [row.taskName, row]));
}

export async function listTasks(db: Database, config: Config, now = new Date()) {
  const [states, last] = await Promise.all([schedulerStates(db), lastRuns(db)]);
  const list = TASK_LIST.map((task) => {
    const lastRun = last.get(task.name);
    return {
      task_name: task.name,
      description: task.description,
      ...scheduleOf(task, states.get(task.name), now),
      ...requirementOf(task, config),
      last_run: lastRun ? taskJson(lastRun) : null,
    };
  });
  return { tasks: list, total_tasks: list.length };
}

/** Runs due in (now, now + hours], paused tasks left out, soonest first. */
function upcoming(states: Map<string, SchedulerState>, hours: number, now: Date) {
  const cutoff = new Date(now.getTime() + hours * MS_PER_HOUR);
  const runs = TASK_LIST.filter((task) => !states.get(task.name)?.paused).flatMap((task) => {
    const cron = cronOf(task, states.get(task.name));
    return runsBetween(cron, now, cutoff).map((at) => ({
      task_name: task.name,
      cron,
      next_run_time: at.toISOString(),
      hours_until_run: Math.round(((at.getTime() - now.getTime()) / MS_PER_HOUR) * 100) / 100,
    }));
  });
  runs.sort((a, b) => a.next_run_time.localeCompare(b.next_run_time) || TASK_NAMES.indexOf(a.task_name) - TASK_NAMES.indexOf(b.task_name));
  return { cutoff, runs };
}

export async function upcomingTasks(db: Database, hours: number, now = new Date()) {
  const { cutoff, runs } = upcoming(await schedulerStates(db), hours, now);
  return { hours, cutoff_time: cutoff.toISOString(), upcoming_tasks: runs, total_upcoming: runs.length };
}

/** A tick later than this means the Cron Trigger is not firing (not deployed, or removed). */
const TICK_LATE_AFTER_MS = 3 * TICK_MS;

/**
 * The dispatcher as it really is: when it last ticked (the latest mark), whether ticks are
 * arriving, which tasks are running now. Nothing here is a constant.
 */
export async function schedulerStatus(db: Database, config: Config, now = new Date()) {
  const [states, running] = await db.batch([
    db.select().from(schedulerState),
    db
      .select({ taskName: tasks.taskName, since: max(tasks.actualStart) })
      .from(tasks)
      .where(and(eq(tasks.status, "running"), sql`${tasks.dateCreated} >= ${new Date(now.getTime() - INTERRUPTED_AFTER_MS).toISOString()}`))
      .groupBy(tasks.taskName),
  ]);
  const byName = new Map(states.map((row) => [row.taskName, row]));
  const lastTick = states.reduce<string | null>(
    (latest, row) => (row.lastCheckedAt && (!latest || row.lastCheckedAt > latest) ? row.lastCheckedAt : latest),
    null,
  );
  const ticking = lastTick !== null && now.getTime() - Date.parse(lastTick) <= TICK_LATE_AFTER_MS;
  const next = TASK_LIST.filter((task) => !byName.get(task.name)?.paused)
    .map((task) => {
      const cron = cronOf(task, byName.get(task.name));
      return { task_name: task.name, cron, next_run_time: nextRun(cron, now)?.toISOString() ?? null };
    })
    .filter((run): run is { task_name: TaskName; cron: string; next_run_time: string } => run.next_run_time !== null)
    .sort((a, b) => a.next_run_time.localeCompare(b.next_run_time));
  const paused = TASK_LIST.filter((task) => byName.get(task.name)?.paused).map((task) => task.name);
  return {
    // True while the Cron Trigger is firing: a tick within the last three intervals.
    scheduler_enabled: ticking,
    running: running.length > 0,
    running_tasks: running.map((row) => ({ task_name: row.taskName, since: row.since })),
    trigger: `Cloudflare Cron Trigger ${TICK_CRON} (one dispatcher)`,
    last_tick_at: lastTick,
    tick_status: lastTick === null ? "never_ticked" : ticking ? "ticking" : "late",
    timezone: "UTC",
    total_tasks: TASK_LIST.length,
    paused_tasks: paused,
    unavailable_tasks: TASK_LIST.filter((task) => unavailableReason(task, config) !== null).map((task) => task.name),
    next_tasks: next,
  };
}

/** One task: its schedule and its last runs. */
export async function taskDetail(db: Database, config: Config, name: string, now = new Date()) {
  const task = resolveTask(name);
  const byName = eq(tasks.taskName, task.name);
  const [[state], rows, [counted]] = await db.batch([
    db.select().from(schedulerState).where(eq(schedulerState.taskName, task.name)),
    db.select().from(tasks).where(byName).orderBy(desc(tasks.dateCreated), desc(tasks.id)).limit(HISTORY_SHOWN),
    db.select({ total: count() }).from(tasks).where(byName),
  ]);
  return {
    task_name: task.name,
    description: task.description,
    schedule: scheduleOf(task, state, now),
    ...requirementOf(task, config),
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

/** The schedule as stored, what each task needs, and the gap analysis settings. */
export async function schedulerConfiguration(db: Database, config: Config) {
  const states = await schedulerStates(db);
  const acquire = unavailableReason(TASKS.ACQUIRE, config);
  return {
    trigger: `Cloudflare Cron Trigger ${TICK_CRON} (wrangler.toml [triggers]); each task runs at the first tick at or after its own cron`,
    cron_triggers: [TICK_CRON],
    timezone: "UTC",
    task_schedules: Object.fromEntries(TASK_LIST.map((task) => [task.name, cronOf(task, states.get(task.name))])) as Record<
      TaskName,
      string
    >,
    default_schedules: Object.fromEntries(TASK_LIST.map((task) => [task.name, task.cron])) as Record<TaskName, string>,
    enabled_features: Object.fromEntries(TASK_LIST.map((task) => [task.feature, unavailableReason(task, config) === null])),
    gap_analysis_config: {
      ...GAP_SETTINGS,
      automatic_acquisition: acquire
        ? { enabled: false, reason: acquire }
        : { enabled: true, schedule: cronOf(TASKS.ACQUIRE, states.get("ACQUIRE")) },
      schedule: cronOf(TASKS.GAPS, states.get("GAPS")),
    },
    retention: { history_retention_days: HISTORY_RETENTION_DAYS, failed_attempts_retention: "permanent" },
  };
}
