import { expect } from "vitest";
import { call } from "./helpers";

/** A title no other test uses, so tests never see each other's rows. */
export function unique(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

async function create<T>(path: string, json: Record<string, unknown>): Promise<T> {
  const res = await call(path, { method: "POST", auth: true, json });
  const body = await res.json<{ data: T }>();
  expect(res.status, `POST ${path} ${JSON.stringify(body)}`).toBe(201);
  return body.data;
}

/** Creates a book through the API; answers the create route's `data`. */
export function createBook(fields: Record<string, unknown> = {}) {
  return create<{ book_id: number } & Record<string, unknown>>("/api/books", { title: unique("book"), ...fields });
}

export function createSeries(fields: Record<string, unknown> = {}) {
  return create<{ series_id: number } & Record<string, unknown>>("/api/series", { name: unique("series"), ...fields });
}

export function createAuthor(fields: Record<string, unknown> = {}) {
  return create<{ author_id: number } & Record<string, unknown>>("/api/authors", { name: unique("author"), ...fields });
}
