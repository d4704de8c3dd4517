import { eq, sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import type { Database } from "../db/client";
import { jsonTable } from "../db/json-rows";
import { authors, series } from "../db/schema";
import { isUniqueViolation } from "../errors";
import { nameKey } from "../lib/name-key";

/**
 * Completing the name keys of the series and author rows that existed before migration 0011: it
 * keyed them as far as SQL can (no-break and zero-width spaces, doubled spaces, ASCII case), not
 * with NFKC or the look-alike skeleton of src/lib/name-key.ts, so "Ｄｕｎｅ" or a Cyrillic "Dunе"
 * kept a key of its own and a later "Dune" was not refused. The library sync reads every series
 * and author name once anyway (./library-sync-page.ts, knownNames); it reads their keys in the same
 * statement, and the rows whose key is incomplete are completed there: no extra read, one write
 * per table, once (a complete key is never written again).
 */

export interface KeyedRow {
  id: number;
  name: string;
  name_key: string | null;
}

/**
 * The rows whose stored key is not the complete one, each with the key to store: the complete key,
 * or, when another row already holds it (a look-alike pair that 0011 kept apart), the complete key
 * with " #<id>", as 0011 kept look-alikes apart. Never a key another row holds, so the UPDATE can
 * run in any order under the unique index.
 */
export function incompleteKeys(rows: readonly KeyedRow[]): { id: number; key: string }[] {
  const byId = [...rows].sort((a, b) => a.id - b.id);
  const held = new Map<string, number>();
  for (const row of byId) if (row.name_key !== null) held.set(row.name_key, row.id);
  const fixes: { id: number; key: string }[] = [];
  for (const row of byId) {
    const full = nameKey(row.name);
    const own = `${full} #${row.id}`;
    if (row.name_key === full || row.name_key === own) continue;
    const free = (key: string) => (held.get(key) ?? row.id) === row.id;
    const key = free(full) ? full : free(own) ? own : null;
    if (key === null) continue;
    if (row.name_key !== null) held.delete(row.name_key);
    held.set(key, row.id);
    fixes.push({ id: row.id, key });
  }
  return fixes;
}

/** Stores the completed keys: one statement per table, in one batch. */
export async function completeNameKeys(
  db: Database,
  fixes: { series: { id: number; key: string }[]; authors: { id: number; key: string }[] },
): Promise<number> {
  const statements = (["series", "authors"] as const)
    .filter((kind) => fixes[kind].length > 0)
    .map((kind) => {
      const table = kind === "series" ? series : authors;
      const completed = jsonTable(
        "completed",
        ["id", "complete"],
        fixes[kind].map(({ id, key }) => ({ id, complete: key })),
      );
      return db.update(table).set({ nameKey: sql`completed.complete` }).from(completed).where(eq(table.id, sql`completed.id`));
    });
  if (statements.length === 0) return 0;
  try {
    await runBatch(db, statements);
  } catch (error) {
    // A row written meanwhile took one of the keys: nothing is written, the next sync tries again.
    if (isUniqueViolation(error)) return 0;
    throw error;
  }
  return fixes.series.length + fixes.authors.length;
}
