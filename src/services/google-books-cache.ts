import { and, eq, gte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { googleBooksLookups, upstreamQuota } from "../db/schema";

/**
 * What keeps Google Books within its limits: the calls counted per quota day, and every lookup
 * remembered, so a second run does not ask again for the same book.
 */

/** Google's default quota: 1,000 requests a day per key. */
export const GOOGLE_BOOKS_DAILY_BUDGET = 1_000;
/** A remembered answer is asked again after this many days (a book's record rarely changes). */
export const LOOKUP_CACHE_DAYS = 30;

/** Google's quota day ends at midnight Pacific time: the day's date there. */
export function quotaDay(now = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "America/Los_Angeles", year: "numeric", month: "2-digit", day: "2-digit" }).format(
    now,
  );
}

/**
 * Takes one call from today's budget, atomically: true when it was free, false when the budget
 * is spent (then nothing is counted). Concurrent runs never exceed the budget between them.
 */
export async function takeCall(db: Database, budget = GOOGLE_BOOKS_DAILY_BUDGET, now = new Date()): Promise<boolean> {
  if (budget <= 0) return false;
  const rows = await db
    .insert(upstreamQuota)
    .values({ service: "google_books", day: quotaDay(now), calls: 1 })
    .onConflictDoUpdate({
      target: [upstreamQuota.service, upstreamQuota.day],
      set: { calls: sql`${upstreamQuota.calls} + 1` },
      setWhere: sql`${upstreamQuota.calls} < ${budget}`,
    })
    .returning({ calls: upstreamQuota.calls });
  return rows.length > 0;
}

/** Calls counted today. */
export async function callsToday(db: Database, now = new Date()): Promise<number> {
  const row = await db
    .select({ calls: upstreamQuota.calls })
    .from(upstreamQuota)
    .where(and(eq(upstreamQuota.service, "google_books"), eq(upstreamQuota.day, quotaDay(now))))
    .get();
  return row?.calls ?? 0;
}

/** The fields a lookup found, and the volume they came from; null when nothing matched. */
export interface LookupResult {
  volume_id: string;
  fields: Record<string, string | number>;
}

/** A remembered answer for `query`: the result (null = no hit), or undefined when not asked lately. */
export async function cachedLookup(db: Database, query: string, now = new Date()): Promise<LookupResult | null | undefined> {
  const since = new Date(now.getTime() - LOOKUP_CACHE_DAYS * 86_400_000).toISOString();
  const row = await db
    .select({ result: googleBooksLookups.result })
    .from(googleBooksLookups)
    .where(and(eq(googleBooksLookups.query, query), gte(googleBooksLookups.fetchedAt, since)))
    .get();
  return row ? ((row.result as LookupResult | null) ?? null) : undefined;
}

export async function rememberLookup(db: Database, query: string, result: LookupResult | null): Promise<void> {
  const fetchedAt = new Date().toISOString();
  await db
    .insert(googleBooksLookups)
    .values({ query, result: result as Record<string, unknown> | null, fetchedAt })
    .onConflictDoUpdate({ target: googleBooksLookups.query, set: { result: sql`excluded.result`, fetchedAt } });
}
