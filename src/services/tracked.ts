import { and, count, eq, ne, or, type SQL, sql } from "drizzle-orm";
import type { Statement } from "../db/batch";
import type { Database } from "../db/client";
import type { authors, COMPLETION_STATUSES, series } from "../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { changesOf } from "../lib/changes";
import { nameKey } from "../lib/name-key";
import { type PageQuery, page } from "../lib/pagination";

/**
 * What series and authors share: both are tracked names that books belong to by name (trimmed,
 * case-insensitively), with completion counted from those books. Names are unique by their key
 * (src/lib/name-key.ts: case, spacing, invisible characters, fullwidth forms and Cyrillic or Greek
 * look-alikes aside), stored in name_key under a unique index.
 * The rules for finding, naming, listing and writing one are the same; ./series.ts and ./authors.ts
 * say only what differs (their fields, answers, orders and recompute statement). Every write that
 * can move the completion recomputes it in the same batch (one D1 transaction): it is never stale.
 */

export type CompletionStatus = (typeof COMPLETION_STATUSES)[number];

type Table = typeof series | typeof authors;

export interface TrackedKind<T extends Table, Fields extends { name: string }, Json, IdKey extends string> {
  table: T;
  /** As messages name one: "Series", "Author". */
  label: string;
  /** The answers' key of an id: "series_id", "author_id". */
  idKey: IdKey;
  /** The unique index on lower(name), whose violation is a 409 when two writes race. */
  uniqueIndex: string;
  /** The answer for a row. */
  json: (row: T["$inferSelect"]) => Json;
  /** The columns of the fields present. */
  columns: (fields: Partial<Fields>) => Partial<T["$inferInsert"]>;
  /** The completion recompute of the named rows, to run in a write's batch. */
  recompute: (db: Database, names: string[]) => Statement;
}

/** The shared rules, bound to one kind. */
export function trackedNames<T extends Table, Fields extends { name: string }, Json, IdKey extends string>(
  kind: TrackedKind<T, Fields, Json, IdKey>,
) {
  // The two tables have the same id, name and completion_status columns: the queries below use
  // only those, through this common view (drizzle cannot type a query over a union of tables).
  const table = kind.table as typeof series;
  const byId = (id: number) => eq(table.id, id);
  const sameName = (name: string) => sql`lower(${table.name}) = lower(${name})`;
  // Rows written before migration 0011 may hold a partial key: the lower(name) rule still applies to them.
  const lookAlike = (name: string) => or(eq(table.nameKey, nameKey(name)), sameName(name));
  const idOf = (id: number) => ({ [kind.idKey]: id }) as Record<IdKey, number>;

  async function find(db: Database, id: number): Promise<T["$inferSelect"]> {
    const [row] = await db.select().from(table).where(byId(id));
    if (!row) throw new NotFoundError(kind.label, id);
    return row as unknown as T["$inferSelect"];
  }

  /** A clear 409 before writing; the unique index still decides a race (see `guardDuplicate`). */
  async function assertNameFree(db: Database, name: string, exceptId?: number): Promise<void> {
    const [clash] = await db
      .select({ id: table.id, name: table.name })
      .from(table)
      .where(exceptId === undefined ? lookAlike(name) : and(lookAlike(name), ne(table.id, exceptId)))
      .limit(1);
    if (clash) throw new ConflictError(`${kind.label} '${clash.name}' already exists`, "duplicate_resource", idOf(clash.id));
  }

  async function guardDuplicate<W>(name: string, write: () => Promise<W>): Promise<W> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error, kind.uniqueIndex) || isUniqueViolation(error, ".name_key"))
        throw new ConflictError(`${kind.label} '${name}' already exists`, "duplicate_resource");
      throw error;
    }
  }

  /** Rows matching `where` in `order` (first `limit`, from `offset`), and how many match. */
  async function ranked(db: Database, where: SQL | undefined, order: SQL[], limit: number, offset = 0) {
    const [rows, [counted]] = await db.batch([
      db
        .select()
        .from(table)
        .where(where)
        .orderBy(...order)
        .limit(limit)
        .offset(offset),
      db.select({ total: count() }).from(table).where(where),
    ]);
    return { rows: (rows as unknown as T["$inferSelect"][]).map(kind.json), total: counted?.total ?? 0 };
  }

  return {
    find,

    /** A page of rows, optionally of one completion status (filtered in SQL, so the total counts every match). */
    async list<K extends string>(db: Database, key: K, order: SQL[], query: PageQuery & { completion_status?: CompletionStatus }) {
      const where = query.completion_status ? eq(table.completionStatus, query.completion_status) : undefined;
      const { rows, total } = await ranked(db, where, order, query.limit, query.offset);
      return page(key, rows, total, query);
    },

    ranked,

    /** The row (404 when there is none) and the rows `related` reads for it, in one batch. */
    async withRelated<Q extends Statement>(db: Database, id: number, related: Q): Promise<{ row: T["$inferSelect"]; related: Awaited<Q> }> {
      const [[row], rows] = (await db.batch([db.select().from(table).where(byId(id)), related])) as unknown as [
        T["$inferSelect"][],
        Awaited<Q>,
      ];
      if (!row) throw new NotFoundError(kind.label, id);
      return { row, related: rows };
    },

    async create(db: Database, fields: Fields) {
      await assertNameFree(db, fields.name);
      const [, , [row]] = await guardDuplicate(fields.name, () =>
        db.batch([
          db
            .insert(table)
            .values({ ...kind.columns(fields), name: fields.name, nameKey: nameKey(fields.name) } as typeof series.$inferInsert),
          kind.recompute(db, [fields.name]),
          db
            .select()
            .from(table)
            .where(eq(table.nameKey, nameKey(fields.name))),
        ]),
      );
      return { ...idOf(row!.id), ...kind.json(row as unknown as T["$inferSelect"]) };
    },

    /** Writes the fields that differ; any change recomputes completion in the same batch. */
    async update(db: Database, id: number, input: Partial<Fields>) {
      const current = await find(db, id);
      const changes_made = changesOf(kind.json(current) as Record<string, unknown>, { ...input });
      if (Object.keys(changes_made).length === 0) return { ...idOf(id), changes_made, ...kind.json(current) };
      const patch = Object.fromEntries(Object.entries(changes_made).map(([field, change]) => [field, change.new])) as Partial<Fields>;
      const name = patch.name ?? current.name;
      if (patch.name !== undefined) await assertNameFree(db, name, id);
      const [, , [row]] = await guardDuplicate(name, () =>
        db.batch([
          db
            .update(table)
            .set({ ...kind.columns(patch), ...(patch.name === undefined ? {} : { nameKey: nameKey(name) }) } as Partial<
              typeof series.$inferInsert
            >)
            .where(byId(id)),
          kind.recompute(db, [name]),
          db.select().from(table).where(byId(id)),
        ]),
      );
      if (!row) throw new NotFoundError(kind.label, id);
      return { ...idOf(id), changes_made, ...kind.json(row as unknown as T["$inferSelect"]) };
    },

    /** Hard delete, as the original; the row's gaps (missing_books) go with it by cascade. */
    async remove(db: Database, id: number) {
      const [row] = await db.delete(table).where(byId(id)).returning({ name: table.name });
      if (!row) throw new NotFoundError(kind.label, id);
      return { ...idOf(id), message: `${kind.label} '${row.name}' deleted` };
    },

    /** Recounts the row's books; answers the row as it is afterwards. */
    async recalculate(db: Database, id: number): Promise<T["$inferSelect"]> {
      const current = await find(db, id);
      const [, [row]] = await db.batch([kind.recompute(db, [current.name]), db.select().from(table).where(byId(id))]);
      if (!row) throw new NotFoundError(kind.label, id);
      return row as unknown as T["$inferSelect"];
    },

    /** The count of rows per completion status, as aggregate columns of a select over the table. */
    statusCounts: {
      complete: sql<number>`coalesce(sum(${table.completionStatus} = 'complete'), 0)`.mapWith(Number),
      partial: sql<number>`coalesce(sum(${table.completionStatus} = 'partial'), 0)`.mapWith(Number),
      incomplete: sql<number>`coalesce(sum(${table.completionStatus} = 'incomplete'), 0)`.mapWith(Number),
    },
  };
}
