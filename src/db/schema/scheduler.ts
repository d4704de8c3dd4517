import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { type JsonObject, timestampNow, updatedAt } from "./columns";

// The scheduler: task runs, per-task state, and the tally of failed items.

export const TASK_STATUSES = ["scheduled", "running", "completed", "failed", "skipped"] as const;

export const tasks = sqliteTable(
  "tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskName: text("task_name").notNull(),
    scheduledTime: text("scheduled_time"),
    actualStart: text("actual_start"),
    actualEnd: text("actual_end"),
    durationSeconds: integer("duration_seconds"),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    itemsProcessed: integer("items_processed").notNull().default(0),
    itemsSucceeded: integer("items_succeeded").notNull().default(0),
    itemsFailed: integer("items_failed").notNull().default(0),
    logOutput: text("log_output"),
    errorMessage: text("error_message"),
    taskMetadata: text("task_metadata", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    dateCreated: timestampNow("date_created"),
    // VIP / ratio fields of the original's MAM tasks, kept for column parity.
    vipStatus: text("vip_status"),
    vipExpiryDate: text("vip_expiry_date"),
    renewalDecision: text("renewal_decision"),
    pointBalance: integer("point_balance"),
    renewalCost: integer("renewal_cost"),
    rulesUpdated: integer("rules_updated"),
    pendingItemsProcessed: integer("pending_items_processed"),
    currentRatio: real("current_ratio"),
    emergencyActive: integer("emergency_active", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    // execution history: by exact name, newest first
    index("tasks_task_name_date_created_idx").on(t.taskName, t.dateCreated),
    index("tasks_status_idx").on(t.status),
    index("tasks_scheduled_time_idx").on(t.scheduledTime),
    // retention cleanup
    index("tasks_date_created_idx").on(t.dateCreated),
  ],
);

// Per task: pause/resume, its cron when changed from the default, and the dispatcher's mark (the
// scheduled time of the last tick that considered it). Survives restarts and deploys.
export const schedulerState = sqliteTable("scheduler_state", {
  taskName: text("task_name").primaryKey(),
  paused: integer("paused", { mode: "boolean" }).notNull().default(false),
  pausedAt: text("paused_at"),
  pausedBy: text("paused_by"),
  cron: text("cron"),
  cronUpdatedBy: text("cron_updated_by"),
  lastCheckedAt: text("last_checked_at"),
  updatedAt: updatedAt("updated_at"),
});

// Tally per (task_name, item_id, item_name), upserted in code: a UNIQUE index cannot do it because
// item_id/item_name may be NULL and SQLite treats NULLs as distinct.
export const failedAttempts = sqliteTable(
  "failed_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    taskName: text("task_name").notNull(),
    itemId: integer("item_id"),
    itemName: text("item_name"),
    reason: text("reason").notNull(),
    errorCode: text("error_code"),
    errorDetails: text("error_details"),
    firstAttempt: text("first_attempt"),
    lastAttempt: text("last_attempt").notNull(),
    attemptCount: integer("attempt_count").notNull().default(1),
    attemptMetadata: text("attempt_metadata", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    createdAt: timestampNow("created_at"),
  },
  (t) => [index("failed_attempts_task_item_idx").on(t.taskName, t.itemId), index("failed_attempts_last_attempt_idx").on(t.lastAttempt)],
);

export type Task = typeof tasks.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;
export type SchedulerState = typeof schedulerState.$inferSelect;
export type NewSchedulerState = typeof schedulerState.$inferInsert;
export type FailedAttempt = typeof failedAttempts.$inferSelect;
export type NewFailedAttempt = typeof failedAttempts.$inferInsert;
