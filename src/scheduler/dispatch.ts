import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type SchedulerState, schedulerState } from "../db/schema";
import { failureReason } from "../lib/failure";
import { type DeliveryReport, deliverDue } from "../services/notifications/deliver";
import { probeComponents, watchHealth } from "../services/notifications/health-watch";
import { runTask, type taskJson } from "./runs";
import { nextRun, TICK_MS } from "./schedule";
import { cronOf, schedulerStates } from "./state";
import { TASK_LIST, type TaskContext, type TaskName } from "./tasks";

/**
 * The dispatcher behind the one Cron Trigger. Each tick, every task gets a mark: the scheduled
 * time of the last tick that considered it (scheduler_state.last_checked_at). A task runs when
 * its own cron has a time in (mark, this tick]: once, however many times fell in that window, so
 * a missed tick catches up once and a long outage does not replay a day of runs. The mark moves
 * by compare-and-set before anything runs, so two overlapping invocations (a slow tick and the
 * next one, or a retried one) never run the same task for the same window twice.
 */

/** Is there a time of `cron` in (since, at]? */
export function dueBetween(cron: string, since: Date, at: Date): boolean {
  const next = nextRun(cron, since);
  return next !== null && next <= at;
}

/**
 * Moves every task's mark to `at`, each only if it is still what was read: the tasks answered
 * are the ones this invocation owns for this window. One D1 statement for all of them (their
 * names and marks as one JSON parameter): a tick shares the Free plan's 50 queries with its tasks.
 */
async function claimWindows(db: Database, states: Map<string, SchedulerState>, at: string): Promise<Set<TaskName>> {
  const open = TASK_LIST.filter((task) => {
    const mark = states.get(task.name)?.lastCheckedAt;
    return !mark || mark < at;
  });
  if (open.length === 0) return new Set();
  const marks = JSON.stringify(open.map((task) => ({ name: task.name, mark: states.get(task.name)?.lastCheckedAt ?? null })));
  // Every column in the table's order (drizzle's INSERT ... SELECT names them all); WHERE true:
  // SQLite's parser needs it between an INSERT's SELECT and its ON CONFLICT.
  const rows = await db
    .insert(schedulerState)
    .select(sql`SELECT json_extract(value, '$.name'), 0, NULL, NULL, NULL, NULL, ${at}, ${at} FROM json_each(${marks}) WHERE true`)
    .onConflictDoUpdate({
      target: schedulerState.taskName,
      set: { lastCheckedAt: at },
      // Compare-and-set: the mark this invocation read (NULL for a task never checked).
      setWhere: sql`${schedulerState.lastCheckedAt} IS (SELECT json_extract(value, '$.mark') FROM json_each(${marks}) WHERE json_extract(value, '$.name') = excluded.task_name)`,
    })
    .returning({ taskName: schedulerState.taskName });
  return new Set(rows.map((row) => row.taskName as TaskName));
}

/**
 * The tasks of (nearly) every tick, with which the notifications' sends are budgeted
 * (MAX_SENDS_PER_RUN in src/services/notifications/deliver.ts). At a tick where any other task
 * ran, the sends wait for the next tick, 5 minutes: the day's heavy ticks (01:00, 01:30, ...) never
 * carry them, whatever their tasks grow to or wherever they are moved (test/scheduler/free-plan.test.ts).
 */
const SENDS_ALONGSIDE: ReadonlySet<string> = new Set<TaskName>(["QUEUE", "CATALOGUE"]);

/**
 * After the tasks, at a tick of only SENDS_ALONGSIDE's tasks: the due notification deliveries
 * (src/services/notifications/deliver.ts), so the events the tasks just noticed go out in the same
 * invocation. A step of the dispatcher, not a task: a tick with nothing due costs one D1 query and
 * no `tasks` row (the delivery log is its history).
 */
async function sendNotifications(ctx: TaskContext, scheduledTime: Date): Promise<DeliveryReport | null> {
  try {
    const report = await deliverDue(ctx.db, ctx.config, scheduledTime);
    if (report.sent > 0 || report.gave_up > 0) console.log(JSON.stringify({ level: "info", event: "notifications_sent", ...report }));
    return report;
  } catch (error) {
    failureReason(error, "notifications_failed", { tick: scheduledTime.toISOString() });
    return null;
  }
}

/** limiter.degraded, database.degraded: told when the probes see a change (src/services/notifications/health-watch.ts). */
async function probeHealth(ctx: TaskContext, scheduledTime: Date): Promise<void> {
  try {
    const told = await watchHealth(ctx.db, await probeComponents(ctx.db, ctx.env, ctx.config), scheduledTime);
    for (const { event, data } of told)
      console.warn(JSON.stringify({ level: "warn", event: "health_changed", notification: event, ...data }));
  } catch (error) {
    failureReason(error, "health_watch_failed", { tick: scheduledTime.toISOString() });
  }
}

export interface DispatchResult {
  tick: string;
  ran: ReturnType<typeof taskJson>[];
  skipped_paused: TaskName[];
  /** Tasks another invocation had already taken for this window. */
  not_claimed: TaskName[];
  /** The notifications sent after the tasks, or null when that step failed (logged) or waited. */
  notifications: DeliveryReport | null;
  /** The sends waited for the next tick: a task besides QUEUE and CATALOGUE ran at this one. */
  notifications_deferred: boolean;
}

/**
 * One tick at `scheduledTime`: claims every task's window, then runs the due ones in table order.
 * A task that fails is recorded and the next one still runs; a run that could not even be
 * recorded is thrown at the end, so the invocation shows as failed in the Workers dashboard.
 */
export async function dispatch(ctx: TaskContext, scheduledTime: Date): Promise<DispatchResult> {
  const tick = scheduledTime.toISOString();
  const states = await schedulerStates(ctx.db);
  const claimed = await claimWindows(ctx.db, states, tick);
  const result: DispatchResult = { tick, ran: [], skipped_paused: [], not_claimed: [], notifications: null, notifications_deferred: false };
  let firstError: unknown;
  for (const task of TASK_LIST) {
    if (!claimed.has(task.name)) {
      result.not_claimed.push(task.name);
      continue;
    }
    const state = states.get(task.name);
    // A task seen for the first time looks back one tick: it does not replay its history.
    const since = state?.lastCheckedAt ? new Date(state.lastCheckedAt) : new Date(scheduledTime.getTime() - TICK_MS);
    const cron = cronOf(task, state);
    if (!dueBetween(cron, since, scheduledTime)) continue;
    if (state?.paused) {
      result.skipped_paused.push(task.name);
      console.log(JSON.stringify({ level: "info", event: "task_skipped_paused", task: task.name, tick }));
      continue;
    }
    try {
      result.ran.push(await runTask(ctx, task, { kind: "cron", scheduledTime, cron }));
    } catch (error) {
      failureReason(error, "task_not_recorded", { task: task.name, tick });
      firstError ??= error;
    }
  }
  // The health probes at every tick but :00 and :30, where the heaviest tasks already share the
  // Free plan's 50 queries (test/scheduler/free-plan.test.ts): a state change waits 5 minutes more at most.
  if (scheduledTime.getUTCMinutes() % 30 !== 0) await probeHealth(ctx, scheduledTime);
  result.notifications_deferred = result.ran.some((run) => !SENDS_ALONGSIDE.has(run.task_name));
  if (!result.notifications_deferred) result.notifications = await sendNotifications(ctx, scheduledTime);
  if (firstError !== undefined) throw firstError;
  return result;
}
