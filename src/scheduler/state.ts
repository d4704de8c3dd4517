import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type SchedulerState, schedulerState } from "../db/schema";
import { NotFoundError, ValidationError } from "../errors";
import { cronProblem, nextRun, normalizeCron, TICK_CRON } from "./schedule";
import { findTask, TASK_NAMES, type TaskDefinition } from "./tasks";

/**
 * Pause, resume and a changed cron: `scheduler_state` rows, read by the dispatcher (./dispatch.ts)
 * each tick.
 */

export function resolveTask(name: string): TaskDefinition {
  const task = findTask(name);
  if (!task) throw new NotFoundError("Task", `${name} (tasks: ${TASK_NAMES.join(", ")})`);
  return task;
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
  const problem = cronProblem(cron, now);
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
