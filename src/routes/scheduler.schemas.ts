import { z } from "zod";
import { TASK_STATUSES } from "../db/schema";
import { timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";
import { TASK_NAMES } from "../scheduler/tasks";

// The answers of /api/scheduler (src/scheduler/).

const taskName = z.enum(TASK_NAMES);
const nextRunTime = timestamp.nullable().meta({ description: "None while paused" });

/** A task run (`taskJson`). */
export const taskRun = z
  .strictObject({
    id: z.number().int(),
    task_name: z.string(),
    status: z.enum(TASK_STATUSES),
    scheduled_time: timestamp.nullable(),
    actual_start: timestamp.nullable(),
    actual_end: timestamp.nullable(),
    duration_seconds: z.number().int().nullable(),
    items_processed: z.number().int(),
    items_succeeded: z.number().int(),
    items_failed: z.number().int(),
    success_rate: z.number().meta({ description: "Percent of processed items that succeeded" }),
    error_message: z.string().nullable(),
    task_metadata: z.record(z.string(), z.unknown()),
    date_created: timestamp,
  })
  .meta({ id: "TaskRun" });

const schedule = {
  cron: z.string(),
  default_cron: z.string(),
  timezone: z.string().meta({ description: "Always UTC" }),
  next_run_time: nextRunTime,
  paused: z.boolean(),
  paused_at: timestamp.nullable(),
  paused_by: z.string().nullable(),
  last_checked_at: timestamp.nullable(),
};

const requirement = {
  requires: z.array(z.string()).readonly().meta({ description: "Outside services the task needs" }),
  available: z.boolean(),
  unavailable_reason: z.string().nullable(),
};

export const taskList = z.strictObject({
  tasks: z.array(
    z.strictObject({ task_name: taskName, description: z.string(), ...schedule, ...requirement, last_run: taskRun.nullable() }),
  ),
  total_tasks: z.number().int(),
});

export const taskDetailSchema = z.strictObject({
  task_name: taskName,
  description: z.string(),
  schedule: z.strictObject(schedule),
  ...requirement,
  execution_history: z.array(taskRun),
  history_count: z.number().int(),
});

export const executions = pageOf("executions", taskRun).extend({ task_name: taskName });

export const upcoming = z.strictObject({
  hours: z.number().int(),
  per_task: z.number().int(),
  cutoff_time: timestamp,
  upcoming_tasks: z.array(z.strictObject({ task_name: taskName, cron: z.string(), next_run_time: timestamp, hours_until_run: z.number() })),
  total_upcoming: z.number().int(),
  truncated: z.boolean().meta({ description: "A task has more runs in the hours than per_task" }),
});

export const statusSchema = z.strictObject({
  scheduler_enabled: z.boolean().meta({ description: "True while the Cron Trigger fires (a tick within three intervals)" }),
  running: z.boolean(),
  running_tasks: z.array(z.strictObject({ task_name: z.string(), since: timestamp.nullable() })),
  trigger: z.string(),
  last_tick_at: timestamp.nullable(),
  tick_status: z.string().meta({ description: "never_ticked, ticking or late" }),
  timezone: z.string().meta({ description: "Always UTC" }),
  total_tasks: z.number().int(),
  paused_tasks: z.array(taskName),
  unavailable_tasks: z.array(taskName),
  next_tasks: z.array(z.strictObject({ task_name: taskName, cron: z.string(), next_run_time: timestamp })),
});

const byTask = z.record(z.string(), z.string());

export const configurationSchema = z.strictObject({
  trigger: z.string(),
  cron_triggers: z.array(z.string()),
  timezone: z.string().meta({ description: "Always UTC" }),
  task_schedules: byTask,
  default_schedules: byTask,
  enabled_features: z.record(z.string(), z.boolean()),
  gap_analysis_config: z.strictObject({
    series_gaps: z.boolean(),
    author_gap_counts: z.boolean(),
    positions: z.string(),
    titles: z.string(),
    priority: z.string(),
    authors_listed_per_run: z.number().int(),
    automatic_acquisition: z
      .union([z.strictObject({ enabled: z.boolean(), reason: z.string() }), z.strictObject({ enabled: z.boolean(), schedule: z.string() })])
      .meta({ description: "Enabled with its schedule, or disabled with the reason" }),
    schedule: z.string(),
  }),
  retention: z.strictObject({ history_retention_days: z.number().int(), failed_attempts_retention: z.string() }),
});

export const triggeredAll = z.strictObject({
  message: z.string(),
  triggered_tasks: z.array(taskRun),
  skipped_paused: z.array(taskName),
});

export const paused = z.strictObject({
  task_name: taskName,
  paused: z.boolean().meta({ description: "True" }),
  paused_at: timestamp,
  paused_by: z.string(),
  next_run_time: z.null(),
  message: z.string(),
});

export const resumed = z.strictObject({
  task_name: taskName,
  paused: z.boolean().meta({ description: "False" }),
  next_run_time: nextRunTime,
  message: z.string(),
});

export const scheduled = z.strictObject({
  task_name: taskName,
  cron: z.string(),
  default_cron: z.string(),
  is_default: z.boolean(),
  timezone: z.string().meta({ description: "Always UTC" }),
  paused: z.boolean(),
  next_run_time: nextRunTime,
  message: z.string(),
});
