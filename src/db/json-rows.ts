import { getTableColumns, is, SQL, sql, type Table } from "drizzle-orm";

/**
 * Many rows in one statement through one bound parameter: the rows travel as a JSON array of
 * arrays and SQLite reads them back with json_each (JSON1, which D1 has). Against D1's 100 bound
 * parameters a page of 500 books is one INSERT ... SELECT instead of 125 four-row INSERTs.
 */

/** D1 refuses a string over 2,000,000 bytes, a bound one included: a slice's JSON stays within half. */
export const JSON_SLICE_BYTES = 1_000_000;

const encoder = new TextEncoder();

/** `rows` as JSON arrays of at most `maxBytes` (UTF-8) each, in order; a row is never split. */
export function jsonSlices(rows: readonly unknown[], maxBytes = JSON_SLICE_BYTES): string[] {
  const slices: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = encoder.encode(text).length + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      slices.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(text);
    bytes += size;
  }
  if (current.length > 0) slices.push(`[${current.join(",")}]`);
  return slices;
}

/**
 * `SELECT ... FROM json_each(?)` of `rows`, one per JSON slice, for `db.insert(table).select(...)`:
 * every column of the table in its order, `columns` from the rows (as drizzle would store them: a
 * JSON-mode column's object as its JSON text, a missing value as NULL, or as the default of a NOT
 * NULL column), the others their defaults.
 * It ends in `WHERE true`, which lets SQLite read an ON CONFLICT clause after it.
 */
export function selectJsonRows<T extends Table>(
  table: T,
  columns: readonly (keyof T["_"]["columns"] & string)[],
  rows: readonly object[],
): SQL[] {
  // The columns drizzle lists in an INSERT, in its order (a generated column is never written).
  const insertable = Object.entries(getTableColumns(table)).filter(([, column]) => column.generated === undefined);
  const values = insertable.map(([key, column]) => {
    const fallback = column.default ?? column.defaultFn?.();
    const byDefault = is(fallback, SQL) ? fallback : fallback !== undefined ? sql.param(fallback, column) : sql`NULL`;
    const at = columns.indexOf(key as (typeof columns)[number]);
    if (at < 0) return byDefault;
    const value = sql.raw(`json_extract(value, '$[${at}]')`);
    // A row without a value for a NOT NULL column gets its default, as a drizzle INSERT would.
    return column.notNull && fallback !== undefined ? sql`coalesce(${value}, ${byDefault})` : value;
  });
  const tuples = rows.map((row) => columns.map((key) => (row as Record<string, unknown>)[key] ?? null));
  return jsonSlices(tuples).map((json) => sql`SELECT ${sql.join(values, sql`, `)} FROM json_each(${json}) WHERE true`);
}

/**
 * `rows` as a derived table named `name`, one column per field (a field of each row's object):
 * `(SELECT json_extract(value, '$.<field>') AS <field>, ... FROM json_each(?)) AS <name>`, for an
 * `UPDATE ... FROM` that writes many rows in one statement through one bound parameter. The names
 * are the caller's constants, never input.
 */
export function jsonTable(name: string, fields: readonly string[], rows: readonly object[]): SQL {
  const columns = fields.map((field) => `json_extract(value, '$.${field}') AS ${field}`).join(", ");
  return sql`(SELECT ${sql.raw(columns)} FROM json_each(${JSON.stringify(rows)})) AS ${sql.raw(name)}`;
}
