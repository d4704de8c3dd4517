import { sql } from "drizzle-orm";
import { text } from "drizzle-orm/sqlite-core";

// Conventions shared by every table of the schema.

// Timestamps are TEXT in the same shape as Date#toISOString() ("2026-11-27T12:00:00.000Z"), so
// SQL defaults, JS-written values and string comparisons (`< cutoff`) all agree.
const isoNow = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;
export const timestampNow = (name: string) => text(name).notNull().default(isoNow);
// SQLite has no ON UPDATE; drizzle fills the column on every update that does not set it.
export const updatedAt = (name: string) => timestampNow(name).$onUpdate(() => new Date().toISOString());

export type JsonObject = Record<string, unknown>;
