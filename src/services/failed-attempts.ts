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

/**
 * Several tallies as one statement (an INSERT ... SELECT over one JSON parameter, upserting on
 * the primary key as `tallyFailure` does): a run with many failed items stays one D1 query. The
 * same item twice in one list counts twice and keeps the last reason.
 */
export function tallyFailures(db: Database, items: FailedItem[], now = new Date().toISOString()) {
  const merged = new Map<string, FailedItem & { times: number }>();
  for (const item of items) {
    const key = JSON.stringify([item.taskName, item.itemId ?? null, item.itemName ?? null]);
    merged.set(key, { ...item, times: (merged.get(key)?.times ?? 0) + 1 });
  }
  const rows = [...merged.values()].map((item) => ({
    task_name: item.taskName,
    item_id: item.itemId ?? null,
    item_name: item.itemName ?? null,
    reason: item.reason,
    error_code: item.errorCode ?? null,
    error_details: item.errorDetails ?? null,
    times: item.times,
  }));
  const field = (name: string) => sql.raw(`json_extract(value, '$.${name}') AS ${name}`);
  const fields = sql.join(["task_name", "item_id", "item_name", "reason", "error_code", "error_details", "times"].map(field), sql`, `);
  // Every column in the table's order (drizzle's INSERT ... SELECT names them all); WHERE true:
  // SQLite's parser needs it between an INSERT's SELECT and its ON CONFLICT.
  const select = sql`SELECT (SELECT f.id FROM ${failedAttempts} f WHERE f.task_name = j.task_name AND f.item_id IS j.item_id AND f.item_name IS j.item_name LIMIT 1),
    j.task_name, j.item_id, j.item_name, j.reason, j.error_code, j.error_details, ${now}, ${now}, j.times, '{}', ${now}
    FROM (SELECT ${fields} FROM json_each(${JSON.stringify(rows)})) AS j WHERE true`;
  return db
    .insert(failedAttempts)
    .select(select)
    .onConflictDoUpdate({
      target: failedAttempts.id,
      set: {
        reason: sql`excluded.reason`,
        errorCode: sql`excluded.error_code`,
        errorDetails: sql`excluded.error_details`,
        lastAttempt: sql`excluded.last_attempt`,
        attemptCount: sql`${failedAttempts.attemptCount} + excluded.attempt_count`,
      },
    });
}
