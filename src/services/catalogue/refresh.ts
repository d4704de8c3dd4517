import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { jsonTable, selectJsonRows } from "../../db/json-rows";
import { bookSeries, books, type CatalogueMember, catalogueSeries } from "../../db/schema";
import type { AudibleCatalogue, AudibleProduct, AudibleSeriesRef } from "../../integrations/audible";
import { ASINS_PER_CALL } from "../../integrations/audible";
import { UpstreamError } from "../../integrations/http";
import { words } from "../release-title";

/**
 * The series catalogue's refresh (README, "From a gap
 * to a finished download"): for each series of the library, the Audible catalogue gives the series'
 * own ASIN (through a book's ASIN from Audiobookshelf, else a title + author search), its members in
 * order and their titles; the answer is kept in `catalogue_series` with its date.
 *
 * A Worker invocation on the Free plan may make 50 subrequests, and the dispatcher runs other tasks
 * in the same tick, so a run stops at `budget` calls and the next tick resumes: the series never
 * asked come first, then the oldest answers. A cached series costs one call (its members) plus one
 * per 25 new members' titles. A 429 ends the run cleanly with what was learnt written.
 */

/** Audible calls per run: of the Free plan's 50 subrequests, the rest is left to the tasks of the same tick (QUEUE). */
export const CATALOGUE_SUBREQUESTS = 35;
/** A series' answer is asked again after this many days (new books appear in series). */
export const REFRESH_DAYS = 14;
/** A series whose lookup failed (a 5xx, an odd answer) is asked again after this many hours. */
export const RETRY_HOURS = 24;
/** The most calls one series can need before its titles (book, search, members). */
const CALLS_BEFORE_TITLES = 3;

export interface RefreshResult {
  series_looked_up: number;
  found: number;
  unknown: number;
  failed: number;
  /** Audible calls made: each is a subrequest of the invocation. */
  calls: number;
  /** D1 statements sent: the due series (one), then one write per series (one batch). */
  statements: number;
  /** Series still to ask (never asked, or stale) after this run. */
  remaining: number;
  /** Why the run ended before the library was done: the budget, or Audible's 429. */
  stopped?: string;
}

interface Candidate {
  name: string;
  title: string;
  author: string | null;
  asin: string | null;
  id: number | null;
  seriesAsin: string | null;
  lookup: "asin" | "search" | null;
  members: CatalogueMember[] | null;
}

type Row = typeof catalogueSeries.$inferInsert;

/** Same series name, compared as words (case, punctuation, articles, "Series"/"Saga" aside). */
export function sameSeries(a: string, b: string): boolean {
  const key = (name: string) => words(name).filter((w) => w !== "series" && w !== "saga" && w !== "novels" && w !== "novel");
  const [x, y] = [key(a).join(" "), key(b).join(" ")];
  return x.length > 0 && x === y;
}

/** The series of a product that is the library's one (by name), or its only one. */
function seriesFor(product: AudibleProduct | null | undefined, name: string): AudibleSeriesRef | undefined {
  const all = product?.series ?? [];
  return all.find((s) => sameSeries(s.title, name)) ?? (all.length === 1 ? all[0] : undefined);
}

/**
 * The library's series that are due (every series a book is in: book_series), never asked first,
 * then the oldest answers and failures to retry; each with its first book's title and author (for a
 * search) and any ASIN of its books.
 */
async function dueSeries(db: Database, now: Date, limit: number) {
  const stale = new Date(now.getTime() - REFRESH_DAYS * 86_400_000).toISOString();
  const retry = new Date(now.getTime() - RETRY_HOURS * 3_600_000).toISOString();
  const due = sql`(c.id IS NULL OR (c.error IS NULL AND c.checked_at < ${stale}) OR (c.error IS NOT NULL AND c.checked_at < ${retry}))`;
  // One statement: the due series, and (before the LIMIT) how many there are.
  const rows = await db.all<{
    name: string;
    title: string;
    author: string | null;
    asin: string | null;
    id: number | null;
    series_asin: string | null;
    lookup: "asin" | "search" | null;
    members: string | null;
    due: number;
  }>(sql`
    SELECT l.name AS name, b.title, b.author, min(coalesce(cast(l.sequence AS REAL), 1e9)) AS first,
           (SELECT max(b2.asin) FROM ${bookSeries} l2 JOIN ${books} b2 ON b2.id = l2.book_id
            WHERE lower(l2.name) = lower(l.name) AND b2.status = 'active') AS asin,
           c.id, c.series_asin, c.lookup, c.members, count(*) OVER () AS due
    FROM ${bookSeries} l JOIN ${books} b ON b.id = l.book_id LEFT JOIN ${catalogueSeries} c ON lower(c.name) = lower(l.name)
    WHERE b.status = 'active' AND trim(l.name) != '' AND ${due}
    GROUP BY lower(l.name)
    ORDER BY c.id IS NOT NULL, c.checked_at, lower(l.name)
    LIMIT ${limit}`);
  const candidates: Candidate[] = rows.map((r) => ({
    name: r.name.trim(),
    title: r.title,
    author: r.author,
    asin: r.asin,
    id: r.id,
    seriesAsin: r.series_asin,
    lookup: r.lookup,
    members: r.members ? (JSON.parse(r.members) as CatalogueMember[]) : null,
  }));
  return { candidates, due: rows[0]?.due ?? 0 };
}

class BudgetSpent extends Error {}

/** What Audible says of one series, within the calls left; BudgetSpent when they do not suffice. */
async function lookUp(client: AudibleCatalogue, budget: number, candidate: Candidate, now: string): Promise<Row> {
  const left = () => budget - client.calls;
  const unknown = unknownRow(candidate.name, now);
  let ref: Pick<AudibleSeriesRef, "asin" | "title"> | undefined = candidate.seriesAsin
    ? { asin: candidate.seriesAsin, title: candidate.name }
    : undefined;
  let lookup = candidate.lookup ?? "asin";
  if (!ref && candidate.asin) ref = seriesFor(await client.product(candidate.asin), candidate.name);
  if (!ref) {
    lookup = "search";
    const found = await client.search(candidate.title, candidate.author);
    for (const product of found) {
      ref = seriesFor(product, candidate.name);
      if (ref) break;
    }
  }
  if (!ref) return unknown;
  const members = await client.seriesMembers(ref.asin);
  if (!members || members.length === 0) return unknown;

  // Titles: those already known are kept (an announced book's are asked again, its date may move).
  const today = now.slice(0, 10);
  const known = new Map((candidate.members ?? []).filter((m) => m.release_date && m.release_date <= today).map((m) => [m.asin, m]));
  const ask = members.filter((m) => !known.has(m.asin)).map((m) => m.asin);
  if (Math.ceil(ask.length / ASINS_PER_CALL) > left()) throw new BudgetSpent();
  const products = new Map<string, AudibleProduct>();
  for (let i = 0; i < ask.length; i += ASINS_PER_CALL) {
    for (const product of await client.productsByAsin(ask.slice(i, i + ASINS_PER_CALL))) products.set(product.asin, product);
  }
  const listed: CatalogueMember[] = members.map((m) => {
    const product = products.get(m.asin);
    const held = known.get(m.asin);
    return {
      position: m.sequence,
      asin: m.asin,
      title: product?.title ?? held?.title ?? null,
      release_date: product?.releaseDate ?? held?.release_date ?? null,
    };
  });
  const whole = listed.map((m) => Number(m.position)).filter((n) => Number.isInteger(n) && n > 0);
  return {
    name: candidate.name,
    status: "found",
    lookup,
    seriesAsin: ref.asin,
    audibleTitle: ref.title,
    members: listed,
    total: whole.length > 0 ? Math.max(...whole) : null,
    checkedAt: now,
    error: null,
  };
}

/** One run: the due series within `budget` Audible calls, written in one batch. */
export async function refreshCatalogue(
  db: Database,
  client: AudibleCatalogue,
  options: { now?: Date; budget?: number } = {},
): Promise<RefreshResult> {
  const now = options.now ?? new Date();
  const budget = options.budget ?? CATALOGUE_SUBREQUESTS;
  const { candidates, due } = await dueSeries(db, now, budget);
  const result: RefreshResult = { series_looked_up: 0, found: 0, unknown: 0, failed: 0, calls: 0, statements: 1, remaining: due };
  const [created, updated, failed]: [Row[], (Row & { id: number })[], { id: number; checkedAt: string; error: string }[]] = [[], [], []];
  const at = now.toISOString();
  for (const candidate of candidates) {
    if (budget - client.calls < CALLS_BEFORE_TITLES) {
      result.stopped = `the run's ${budget} Audible calls are spent; the next tick resumes`;
      break;
    }
    let row: Row;
    try {
      row = await lookUp(client, budget, candidate, at);
    } catch (error) {
      if (error instanceof BudgetSpent) {
        result.stopped = `the run's ${budget} Audible calls are spent; the next tick resumes`;
        break;
      }
      if (!(error instanceof UpstreamError)) throw error;
      if (error.upstreamStatus === 429) {
        result.stopped = "Audible answered 429 (rate limited): the run stops, the next tick resumes";
        break;
      }
      // This series failed (an odd answer, a 5xx): noted, asked again after RETRY_HOURS, keeping
      // what an earlier lookup learnt; the other series go on.
      result.series_looked_up++;
      result.failed++;
      const failure = { checkedAt: at, error: error.detail ?? error.message };
      if (candidate.id) failed.push({ id: candidate.id, ...failure });
      else created.push({ ...unknownRow(candidate.name, at), ...failure });
      continue;
    }
    result.series_looked_up++;
    if (row.status === "found") result.found++;
    else result.unknown++;
    if (candidate.id) updated.push({ id: candidate.id, ...row });
    else created.push(row);
  }
  // At most three statements, whatever the number of series: the Free plan's 50 D1 queries are
  // shared with the other tasks of the tick (test/scheduler/free-plan.test.ts).
  const writes = catalogueWrites(db, created, updated, failed);
  if (writes.length > 0) {
    const [first, ...rest] = writes;
    await db.batch([first!, ...rest]);
    result.statements += writes.length;
  }
  result.calls = client.calls;
  result.remaining = Math.max(0, due - result.series_looked_up);
  return result;
}

function unknownRow(name: string, at: string): Row {
  return {
    name,
    status: "unknown",
    lookup: null,
    seriesAsin: null,
    audibleTitle: null,
    members: [],
    total: null,
    checkedAt: at,
    error: null,
  };
}

const ROW_FIELDS = ["name", "status", "lookup", "seriesAsin", "audibleTitle", "members", "total", "checkedAt", "error"] as const;

/** The run's answers as (at most) three statements: new rows, answered rows, failed rows (keeping what an earlier lookup learnt). */
function catalogueWrites(
  db: Database,
  created: Row[],
  updated: (Row & { id: number })[],
  failed: { id: number; checkedAt: string; error: string }[],
): BatchItem<"sqlite">[] {
  const writes: BatchItem<"sqlite">[] = [];
  for (const rows of selectJsonRows(catalogueSeries, ROW_FIELDS, created))
    writes.push(db.insert(catalogueSeries).select(rows).onConflictDoNothing());
  if (updated.length > 0) {
    const table = jsonTable("answered", ["id", ...ROW_FIELDS], updated);
    writes.push(
      db
        .update(catalogueSeries)
        .set({
          status: sql`answered.status`,
          lookup: sql`answered.lookup`,
          seriesAsin: sql`answered.seriesAsin`,
          audibleTitle: sql`answered.audibleTitle`,
          members: sql`answered.members`,
          total: sql`answered.total`,
          checkedAt: sql`answered.checkedAt`,
          error: sql`answered.error`,
        })
        .from(table)
        .where(eq(catalogueSeries.id, sql`answered.id`)),
    );
  }
  if (failed.length > 0) {
    const table = jsonTable("failed", ["id", "checkedAt", "error"], failed);
    writes.push(
      db
        .update(catalogueSeries)
        .set({ checkedAt: sql`failed.checkedAt`, error: sql`failed.error` })
        .from(table)
        .where(eq(catalogueSeries.id, sql`failed.id`)),
    );
  }
  return writes;
}
