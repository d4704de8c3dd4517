import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { primaryDatabase } from "../src/db/client";
import { books, type NewBook } from "../src/db/schema";
import { unique } from "./fixtures";
import { type CallOptions, call } from "./helpers";

/** An ISO 8601 UTC timestamp with milliseconds, as every stored time is written. */
export const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

/** A call with the operator key, answering the status and the parsed body (loosely typed: tests check it field by field). */
export async function api<T = any>(path: string, options: CallOptions = {}): Promise<{ status: number; body: T }> {
  const res = await call(path, { auth: true, ...options });
  return { status: res.status, body: await res.json<T>() };
}

/**
 * Books written straight to D1, bypassing the book routes and so the completion recompute: for
 * setting up completion cases and for proving that a route reads stored values.
 */
export async function insertBooks(count: number, fields: Partial<NewBook> = {}): Promise<number[]> {
  if (count === 0) return [];
  const rows = Array.from({ length: count }, (_, i) => ({ title: unique("book"), seriesNumber: String(i + 1), ...fields }));
  const inserted = await primaryDatabase(env).insert(books).values(rows).returning({ id: books.id });
  return inserted.map((row) => row.id);
}

/** The stored completion of a series and of an author, read back without recalculating. */
export async function storedCounts(seriesId: number, authorId: number) {
  const [s, a] = await Promise.all([api(`/api/series/${seriesId}/completion`), api(`/api/authors/${authorId}/completion`)]);
  expect(s.status).toBe(200);
  expect(a.status).toBe(200);
  return {
    series: {
      owned: s.body.data.books_owned,
      missing: s.body.data.books_missing,
      pct: s.body.data.completion_percentage,
      status: s.body.data.completion_status,
    },
    author: {
      owned: a.body.data.audiobooks_owned,
      missing: a.body.data.audiobooks_missing,
      pct: a.body.data.completion_percentage,
      status: a.body.data.completion_status,
    },
  };
}
