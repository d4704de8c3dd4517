import { type Config, SERVICE_LABELS, type ServiceName } from "../config";
import type { Database } from "../db/client";
import type { FailedItem } from "../services/failed-attempts";

// What a scheduled task is: its name, what its runner gets and answers, what it needs.

export const TASK_NAMES = [
  "LIBRARY_SYNC",
  "CATALOGUE",
  "GAPS",
  "AUTHOR_WATCH",
  "ACQUIRE",
  "QUEUE",
  "METADATA_NEW",
  "METADATA_FULL",
  "SERIES",
  "AUTHOR",
  "CLEANUP",
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** What a runner gets: the database, the bindings and their parsed configuration. */
export interface TaskContext {
  db: Database;
  env: Env;
  config: Config;
}

/** What one run did; `failures` are the items to tally in failed_attempts. */
export interface TaskOutcome {
  processed: number;
  succeeded: number;
  failed: number;
  metadata?: Record<string, unknown>;
  failures?: FailedItem[];
}

export interface TaskDefinition {
  name: TaskName;
  description: string;
  /** The default cron, until PUT /api/scheduler/task/:name/schedule stores another. */
  cron: string;
  /** The feature it provides, as /api/scheduler/configuration names it. */
  feature: string;
  /** Outside services it needs; while one is not configured the task records `skipped`. */
  requires: readonly ServiceName[];
  run: (ctx: TaskContext) => Promise<TaskOutcome>;
}

/** Why the task cannot run with this configuration (the bindings to set), or null. */
export function unavailableReason(task: TaskDefinition, config: Config): string | null {
  const missing = task.requires.flatMap((service) => {
    const integration = config.integrations[service];
    if (integration.configured) return [];
    // Production names no binding (as /api/system/configuration); elsewhere it says what to set.
    return [
      config.isProduction
        ? `${SERVICE_LABELS[service]} is not configured`
        : `${SERVICE_LABELS[service]} is not configured (set ${integration.missing.join(", ")})`,
    ];
  });
  return missing.length > 0 ? missing.join("; ") : null;
}
