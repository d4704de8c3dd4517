import { getTableColumns, type Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "./client";

/** D1 refuses a statement with more than 100 bound parameters. */
export const D1_MAX_PARAMS = 100;

export type Statement = BatchItem<"sqlite">;

/**
 * Rows per multi-row INSERT into `table` that stay within D1's parameter limit. Drizzle binds at
 * most one parameter per column and row, so the column count is a safe bound.
 */
export function rowsPerInsert(table: Table): number {
  return Math.max(1, Math.floor(D1_MAX_PARAMS / Object.keys(getTableColumns(table)).length));
}

/** `items` in consecutive slices of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Runs statements as one D1 batch: one transaction, all or nothing. An empty list sends nothing.
 * Use `db.batch` directly when the results are needed with their types.
 */
export async function runBatch(db: Database, statements: readonly Statement[]): Promise<void> {
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}
