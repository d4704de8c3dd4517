import { and, eq, inArray, lt } from "drizzle-orm";
import { type Task, tasks } from "../db/schema";
import { AppError } from "../errors";
import { failureReason, TaskError } from "../lib/failure";
import { type FailedItem, tallyFailures } from "../services/failed-attempts";
import { enqueueNotification } from "../services/notifications/enqueue";
import { resolveTask, schedulerStates } from "./state";
import { TASK_LIST, type TaskContext, type TaskDefinition, type TaskName, type TaskOutcome, unavailableReason } from "./tasks";

/**
 * Running a task, from the dispatcher (./dispatch.ts) or on request. Each run is a `tasks` row that
 * goes scheduled → running → completed | failed, or straight to skipped when a service it needs is
 * not configured.
 */

/** A scheduled handler runs for at most 15 minutes: a row still unfinished after that was cut off. */
export const INTERRUPTED_AFTER_MS = 15 * 60_000;
/** Failed items tallied per run at most (one D1 statement for all of them). */
const MAX_TALLIED_ITEMS = 20;

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

/** The row a run starts with: `scheduled`, or `skipped` with the reason when `unavailable` says so. */
async function startRun(db: TaskContext["db"], name: TaskName, trigger: Trigger, unavailable: string | null) {
  const scheduledTime = (trigger.scheduledTime ?? new Date()).toISOString();
  const metadata = {
    trigger: trigger.kind,
    ...(trigger.cron ? { cron: trigger.cron } : {}),
    ...(trigger.actor ? { triggered_by: trigger.actor } : {}),
  };
  const now = new Date().toISOString();
  const [, [created]] = await db.batch([
    // Rows of this task that a stopped Worker left unfinished.
    db
      .update(tasks)
      .set({ status: "failed", errorMessage: "Interrupted: the Worker stopped before the task finished" })
      .where(
        and(
          eq(tasks.taskName, name),
          inArray(tasks.status, ["scheduled", "running"]),
          lt(tasks.dateCreated, new Date(Date.now() - INTERRUPTED_AFTER_MS).toISOString()),
        ),
      ),
    unavailable
      ? db
          .insert(tasks)
          .values({
            taskName: name,
            status: "skipped",
            scheduledTime,
            actualStart: now,
            actualEnd: now,
            durationSeconds: 0,
            errorMessage: unavailable,
            taskMetadata: metadata,
          })
          .returning()
      : db.insert(tasks).values({ taskName: name, status: "scheduled", scheduledTime, taskMetadata: metadata }).returning(),
  ]);
  if (!created) throw new Error("INSERT ... RETURNING answered no row");
  return { created, metadata };
}

/**
 * Runs `work` on a started row and records how it ended: completed with its outcome, or failed
 * with the reason (and a failed_attempts tally). Answers the finished row and what work threw.
 */
async function execute(
  db: TaskContext["db"],
  started: Awaited<ReturnType<typeof startRun>>,
  trigger: Trigger,
  work: () => Promise<TaskOutcome>,
): Promise<{ row: Task; error: unknown }> {
  const { created, metadata } = started;
  const start = new Date();
  await db.update(tasks).set({ status: "running", actualStart: start.toISOString() }).where(eq(tasks.id, created.id));

  let outcome: TaskOutcome | undefined;
  let error: unknown;
  try {
    outcome = await work();
  } catch (thrown) {
    error = thrown;
  }
  const end = new Date();
  const finished = { actualEnd: end.toISOString(), durationSeconds: Math.floor((end.getTime() - start.getTime()) / 1000) };
  const byId = eq(tasks.id, created.id);

  let tallies: FailedItem[];
  let update;
  let told: ReturnType<typeof enqueueNotification>[] = [];
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
    const reason = failureReason(cause, "task_failed", { task: created.taskName, task_id: created.id });
    tallies = [{ taskName: created.taskName, reason, errorCode: cause instanceof AppError ? cause.code : "internal_error" }];
    // Told in the same batch as the failure is recorded: one event per failed run.
    told = [enqueueNotification(db, "task.failed", { task: created.taskName, task_id: created.id, trigger: trigger.kind, reason })];
    update = db
      .update(tasks)
      .set({ ...finished, status: "failed", errorMessage: reason, ...(partial ? { taskMetadata: { ...metadata, ...partial } } : {}) })
      .where(byId)
      .returning();
  }
  const [[row]] = await db.batch([update, ...(tallies.length > 0 ? [tallyFailures(db, tallies)] : []), ...told]);
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
  return { row, error };
}

/**
 * Runs one task now and records it. Task failures are recorded (status failed, the reason, a
 * failed_attempts tally), not thrown; only a database that cannot record the run throws. A task
 * whose service is not configured is recorded as `skipped` with the bindings to set.
 */
export async function runTask(ctx: TaskContext, task: TaskDefinition, trigger: Trigger) {
  const unavailable = unavailableReason(task, ctx.config);
  const started = await startRun(ctx.db, task.name, trigger, unavailable);
  if (unavailable) {
    console.log(
      JSON.stringify({
        level: "info",
        event: "task_skipped",
        task: task.name,
        task_id: started.created.id,
        trigger: trigger.kind,
        reason: unavailable,
      }),
    );
    return taskJson(started.created);
  }
  const { row } = await execute(ctx.db, started, trigger, () => task.run(ctx));
  return taskJson(row);
}

/**
 * A task's work started by its own route (POST /api/library/sync, POST /api/gaps/analyze), recorded
 * as a manual run of that task like a trigger, so the schedule and the overview show it. Answers
 * the work's own result; a failure is recorded, then thrown on to the route's error answer.
 */
export async function recordedRun<T>(
  db: TaskContext["db"],
  name: TaskName,
  actor: string,
  work: () => Promise<T>,
  outcomeOf: (result: T) => TaskOutcome,
): Promise<T> {
  const trigger: Trigger = { kind: "manual", actor };
  let result: T | undefined;
  const { error } = await execute(db, await startRun(db, name, trigger, null), trigger, async () => {
    result = await work();
    return outcomeOf(result);
  });
  if (error !== undefined) throw error;
  return result as T;
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
