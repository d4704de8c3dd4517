import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { failedAttempts } from "../db/schema";

/**
 * The failed-attempt tally: one row per (task_name, item_id, item_name), NULLs
 * matching NULLs. A new failure creates it with attempt_count 1; a repeated one counts up and
 * overwrites the reason. Rows are never deleted (retention "permanent").
 */

export interface FailedItem {
  taskName: string;
  itemId?: number | null;
  itemName?: string | null;
  reason: string;
  errorCode?: string | null;
  errorDetails?: string | null;
}

/**
 * One tally as one statement (an upsert on the primary key: the row takes the id of the existing
 * tally, if any), so two tallies of the same item cannot both insert. For the caller's batch.
 */
export function tallyFailure(db: Database, item: FailedItem, now = new Date().toISOString()) {
  const itemId = item.itemId ?? null;
  const itemName = item.itemName ?? null;
  const same = and(
    eq(failedAttempts.taskName, item.taskName),
    sql`${failedAttempts.itemId} IS ${itemId}`,
    sql`${failedAttempts.itemName} IS ${itemName}`,
  );
  const details = { reason: item.reason, errorCode: item.errorCode ?? null, errorDetails: item.errorDetails ?? null, lastAttempt: now };
  return db
    .insert(failedAttempts)
    .values({
      id: sql`(SELECT ${failedAttempts.id} FROM ${failedAttempts} WHERE ${same} LIMIT 1)`,
      taskName: item.taskName,
      itemId,
      itemName,
      firstAttempt: now,
      attemptCount: 1,
      ...details,
    })
    .onConflictDoUpdate({ target: failedAttempts.id, set: { ...details, attemptCount: sql`${failedAttempts.attemptCount} + 1` } });
}
