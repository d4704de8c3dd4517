// `npm run bench -- catalogue`: the CATALOGUE task's refresh of a synced library of 300 series, first
// (nothing known) and cached (every answer older than the refresh age), tick after tick as the
// dispatcher runs it. Each tick runs the API's own code (bench/catalogue/index.ts) under `wrangler dev`
// against a fresh local D1, asking a fake Audible catalogue that this process serves on loopback with
// the catalogue's own answer shapes; the numbers are the Audible calls (each a subrequest of the
// invocation), the D1 statements and round trips, and the ticks the Free plan's budget needs.
import { writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { runTool } from "../../scripts/lib/tool.js";
import { startWorker, stopWorker } from "./server.js";

export const CATALOGUE_SERIES = 300;
/** Books a series holds in the catalogue (the library owns 1, 2 and 4). */
const MEMBERS = 6;
/** The Free plan's subrequests per invocation. */
const FREE_PLAN_SUBREQUESTS = 50;
const TICK_MS = 5 * 60_000;

const pad = (n) => String(n).padStart(8, "0");
const bookAsin = (s, p) => `BK${pad(s * 10 + p)}`;
const seriesAsin = (s) => `BS${pad(s)}`;

function product(s, p) {
  return {
    asin: bookAsin(s, p),
    title: `Saga ${s} Book ${p}`,
    subtitle: null,
    authors: [{ asin: `AU${pad(s % 40)}`, name: `Author ${s % 40}` }],
    narrators: [{ name: "A Narrator" }],
    series: [{ asin: seriesAsin(s), title: `Saga ${s}`, sequence: p === 2 ? `Book ${p}` : String(p) }],
    release_date: "2020-01-01",
    runtime_length_min: 600,
    language: "english",
    format_type: "unabridged",
  };
}

/** The fake catalogue: a book, a series' relationships, a search, several ASINs. */
function fakeAudible() {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    const url = new URL(req.url, "http://audible");
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const one = /^\/1\.0\/catalog\/products\/(BK|BS)(\d{8})$/.exec(url.pathname);
    if (one) {
      const n = Number(one[2]);
      if (one[1] === "BS") {
        const relationships = Array.from({ length: MEMBERS }, (_, i) => ({
          asin: bookAsin(n, i + 1),
          relationship_to_product: "child",
          relationship_type: "series",
          sequence: String(i + 1),
          sort: String(i + 1),
        }));
        return send(200, { product: { asin: seriesAsin(n), title: `Saga ${n}`, relationships }, response_groups: ["relationships"] });
      }
      return send(200, { product: product(Math.floor(n / 10), n % 10), response_groups: [] });
    }
    if (url.pathname === "/1.0/catalog/products") {
      const asins = url.searchParams.get("asins");
      if (asins) {
        const products = asins.split(",").map((a) => {
          const n = Number(a.slice(2));
          return product(Math.floor(n / 10), n % 10);
        });
        return send(200, { products, total_results: products.length });
      }
      const match = /^Saga (\d+) Book (\d+)$/.exec(url.searchParams.get("title") ?? "");
      const products = match ? [product(Number(match[1]), Number(match[2]))] : [];
      return send(200, { products, total_results: products.length });
    }
    send(404, { message: "Requested product doesn't exist", error_code: "000307" });
  });
  return {
    calls: () => calls,
    listen: () => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Ticks until nothing is due; answers the totals of the phase. */
async function refresh(server, label, start, say) {
  const phase = { label, ticks: 0, calls: 0, max_calls_per_tick: 0, statements: 0, round_trips: 0, ms: 0, series: 0 };
  for (let at = start; ; at += TICK_MS) {
    const response = await fetch(`${server.url}/tick?now=${new Date(at).toISOString()}`);
    const body = await response.json();
    if (!response.ok) throw new Error(`tick: ${response.status} ${JSON.stringify(body)}`);
    phase.ticks++;
    phase.calls += body.result.calls;
    phase.max_calls_per_tick = Math.max(phase.max_calls_per_tick, body.result.calls);
    phase.statements += body.statements;
    phase.round_trips += body.round_trips;
    phase.ms += body.ms;
    phase.series += body.result.series_looked_up;
    if (body.result.calls > FREE_PLAN_SUBREQUESTS) throw new Error(`a tick made ${body.result.calls} subrequests`);
    if (body.result.remaining === 0 || phase.ticks > 200) break;
  }
  say(
    `${label}: ${phase.ticks} ticks, ${phase.calls} Audible calls (at most ${phase.max_calls_per_tick} a tick), ${phase.statements} D1 statements`,
  );
  return phase;
}

export async function catalogueBench({ work, logDir, devVars, say }) {
  const audible = fakeAudible();
  const port = await audible.listen();
  const persistTo = path.join(work, "catalogue");
  const migrated = runTool("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], { env: { CI: "true" } });
  if (migrated.status !== 0) throw new Error(`migrating the catalogue database failed:\n${migrated.stdout}${migrated.stderr}`);
  const envFile = path.join(work, "catalogue.env");
  writeFileSync(envFile, `${devVars.replace(/^AUDIBLE_URL.*$/gm, "")}\nAUDIBLE_URL=http://127.0.0.1:${port}\nUPSTREAM_TIMEOUT_MS=30000\n`);
  const server = await startWorker({ name: "catalogue", config: "bench/catalogue/wrangler.toml", persistTo, logDir, envFile });
  try {
    const seeded = await (await fetch(`${server.url}/seed?series=${CATALOGUE_SERIES}`)).json();
    say(`seeded ${seeded.series} series, ${seeded.books} books`);
    const start = Date.parse("2026-12-01T00:00:00.000Z");
    const first = await refresh(server, `first refresh (${CATALOGUE_SERIES} series, nothing known)`, start, say);
    const cached = await refresh(server, "cached refresh (every answer 15 days old)", start + 15 * 86_400_000, say);
    const idle = await refresh(server, "a tick with nothing due", start + 15 * 86_400_000 + 3_600_000, say);
    return { phases: [first, cached, idle], audible_calls_served: audible.calls() };
  } finally {
    await stopWorker(server);
    await audible.close();
  }
}

export function catalogueTable({ phases }) {
  const rows = [["refresh", "ticks", "Audible calls", "max calls a tick", "series", "D1 statements", "round trips", "time (s)"]];
  for (const p of phases)
    rows.push([
      p.label,
      String(p.ticks),
      String(p.calls),
      String(p.max_calls_per_tick),
      String(p.series),
      String(p.statements),
      String(p.round_trips),
      (p.ms / 1000).toFixed(2),
    ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ")).join("\n");
}
