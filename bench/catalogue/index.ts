import { parseConfig } from "../../src/config";
import { sessionDatabase } from "../../src/db/client";
import { audible } from "../../src/integrations/audible";
import { refreshCatalogue } from "../../src/services/catalogue/refresh";
import { type Counts, counting } from "../sync/index";

/**
 * `/seed?series=N`: a synced library of N series (books 1, 2 and 4 of 6 owned, the first with its
 * ASIN, every third series without any ASIN so it is found by a search); `/tick?now=ISO`: one
 * CATALOGUE run at that time, answering its Audible calls and what reached D1.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/seed") {
      const n = Number(url.searchParams.get("series") ?? 300);
      const insert = env.DB.prepare("INSERT INTO books (title, author, series, series_number, asin) VALUES (?, ?, ?, ?, ?)");
      const rows: D1PreparedStatement[] = [];
      for (let s = 1; s <= n; s++) {
        for (const position of [1, 2, 4]) {
          const asin = position === 1 && s % 3 !== 0 ? `BK${String(s * 10 + position).padStart(8, "0")}` : null;
          rows.push(insert.bind(`Saga ${s} Book ${position}`, `Author ${s % 40}`, `Saga ${s}`, String(position), asin));
        }
      }
      for (let i = 0; i < rows.length; i += 500) await env.DB.batch(rows.slice(i, i + 500));
      return Response.json({ series: n, books: rows.length });
    }
    if (url.pathname !== "/tick") return new Response("ready");
    const counts: Counts = { statements: 0, round_trips: 0 };
    const db = sessionDatabase(counting(env.DB.withSession("first-primary"), counts));
    const config = parseConfig(env);
    if (config.problems.length > 0) return Response.json({ problems: config.problems }, { status: 500 });
    const started = Date.now();
    const result = await refreshCatalogue(db, audible(config), { now: new Date(url.searchParams.get("now") ?? Date.now()) });
    return Response.json({ ...counts, ms: Date.now() - started, result });
  },
};
