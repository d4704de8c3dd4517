import { getTableColumns, is, SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";

/**
 * `INSERT INTO table SELECT <values> FROM from WHERE condition`: a row written only when the
 * condition holds at that point of a batch, e.g. `changes() > 0` right after a guarded UPDATE (an
 * audit row only for a change that happened; a batch's statements run in order in one
 * transaction). Columns not given take their defaults, as an INSERT would.
 */
export function insertWhere<T extends SQLiteTable>(
  db: Database,
  table: T,
  values: { [K in keyof T["$inferInsert"]]?: T["$inferInsert"][K] | SQL },
  from: SQLiteTable,
  condition: SQLWrapper,
) {
  const given = values as Record<string, unknown>;
  const fields = Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, column]) => {
      const value = given[key] !== undefined ? given[key] : column.default;
      if (value === undefined) return [key, sql`NULL`];
      return [key, is(value, SQL) ? value : sql`${column.mapToDriverValue(value)}`];
    }),
  );
  return db.insert(table).select(db.select(fields).from(from).where(condition.getSQL()).limit(1) as never);
}
