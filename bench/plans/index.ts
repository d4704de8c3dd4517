import { drizzle } from "drizzle-orm/d1";
import * as schema from "../../src/db/schema";
import { createBook, listBooks, searchBooks } from "../../src/services/books";
import { seriesCompletionSummary } from "../../src/services/series";

type Sent = { sql: string; params: unknown[] };

/** The binding, noting every statement drizzle binds (it binds each one, with or without parameters). */
function noting(db: D1Database, sent: Sent[]): D1Database {
  const client = {
    prepare(sql: string) {
      const statement = db.prepare(sql);
      return {
        bind(...params: unknown[]) {
          sent.push({ sql, params });
          return statement.bind(...params);
        },
      };
    },
    batch: (statements: D1PreparedStatement[]) => db.batch(statements),
  };
  return client as unknown as D1Database;
}

/** The same calls the benchmarked routes make (see bench/run.js), by the route they serve. */
const ROUTES: Record<string, (db: ReturnType<typeof drizzle<typeof schema>>, search: URLSearchParams) => Promise<unknown>> = {
  "GET /api/books?limit=20": (db) => listBooks(db, { limit: 20, offset: 0, status: "active" }),
  "GET /api/books?search=…": (db, q) => listBooks(db, { limit: 20, offset: 0, status: "active", search: q.get("typical")! }),
  "GET /api/books/search (typical term)": (db, q) => searchBooks(db, q.get("typical")!, 20),
  "GET /api/books/search (broad term)": (db, q) => searchBooks(db, q.get("broad")!, 20),
  "GET /api/series/completion-summary": (db) => seriesCompletionSummary(db),
  "POST /api/books": (db) =>
    createBook(db, { title: "Plan Probe", author: "Keiko Tanaka", series: "Hollow Lantern Cycle", series_number: "3" }),
};

export default {
  async fetch(request: Request, env: { DB: D1Database }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/plans") return new Response("ready");
    const search = url.searchParams;
    const plans: Record<string, { sql: string; plan: string[] }[]> = {};
    for (const [route, call] of Object.entries(ROUTES)) {
      const sent: Sent[] = [];
      await call(drizzle(noting(env.DB, sent), { schema }), search);
      plans[route] = [];
      for (const { sql, params } of sent) {
        const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...params)
          .all<{ id: number; parent: number; detail: string }>();
        // Indented as SQLite's shell prints it: a step under its parent.
        const depth = new Map<number, number>([[0, 0]]);
        const plan = results.map((row) => {
          depth.set(row.id, (depth.get(row.parent) ?? 0) + 1);
          return `${"  ".repeat(depth.get(row.id)! - 1)}${row.detail}`;
        });
        plans[route].push({ sql, plan });
      }
    }
    return Response.json(plans);
  },
};
