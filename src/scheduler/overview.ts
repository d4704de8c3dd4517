import { and, count, desc, eq, max, sql } from "drizzle-orm";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { type SchedulerState, schedulerState, type Task, tasks } from "../db/schema";
import { type PageQuery, page } from "../lib/pagination";
import { GAP_SETTINGS } from "../services/gaps";
import { HISTORY_RETENTION_DAYS } from "../services/system";
import { INTERRUPTED_AFTER_MS, taskJson } from "./runs";
import { nextRun, runsBetween, TICK_CRON, TICK_MS } from "./schedule";
import { cronOf, resolveTask, schedulerStates } from "./state";
import { TASK_LIST, TASK_NAMES, TASKS, type TaskDefinition, type TaskName, unavailableReason } from "./tasks";

// What the scheduler routes show: the tasks, their schedules and runs, the dispatcher's state.

const HISTORY_SHOWN = 10;
const MS_PER_HOUR = 3_600_000;

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

/** Runs due in (now, now + hours], at most `perTask` of each, paused tasks left out, soonest first. */
function upcoming(states: Map<string, SchedulerState>, hours: number, perTask: number, now: Date) {
  const cutoff = new Date(now.getTime() + hours * MS_PER_HOUR);
  let truncated = false;
  const runs = TASK_LIST.filter((task) => !states.get(task.name)?.paused).flatMap((task) => {
    const cron = cronOf(task, states.get(task.name));
    const due = runsBetween(cron, now, cutoff, perTask + 1);
    if (due.length > perTask) truncated = true;
    return due.slice(0, perTask).map((at) => ({
      task_name: task.name,
      cron,
      next_run_time: at.toISOString(),
      hours_until_run: Math.round(((at.getTime() - now.getTime()) / MS_PER_HOUR) * 100) / 100,
    }));
  });
  runs.sort((a, b) => a.next_run_time.localeCompare(b.next_run_time) || TASK_NAMES.indexOf(a.task_name) - TASK_NAMES.indexOf(b.task_name));
  return { cutoff, runs, truncated };
}

export async function upcomingTasks(db: Database, hours: number, perTask: number, now = new Date()) {
  const { cutoff, runs, truncated } = upcoming(await schedulerStates(db), hours, perTask, now);
  return { hours, per_task: perTask, cutoff_time: cutoff.toISOString(), upcoming_tasks: runs, total_upcoming: runs.length, truncated };
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
