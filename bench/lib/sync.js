// `npm run bench -- sync`: a first Audiobookshelf sync of 10,000 items into an empty catalogue,
// then the same library again (nothing changed), then with one item changed. Each sync runs the
// API's own code (bench/sync/index.ts) under `wrangler dev` against a fresh local D1, reading a fake
// Audiobookshelf that this process serves on loopback with ABS's own answer shapes; the numbers are
// the D1 statements and round trips the sync sent, and its time.
import { writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { runTool } from "../../scripts/lib/tool.js";
import { startWorker, stopWorker } from "./server.js";

export const SYNC_ITEMS = 10_000;
const TOKEN = "bench-abs-token-7d1e";
const LIBRARY = { id: "lib_bench", name: "Audiobooks", mediaType: "book", provider: "audible", folders: [] };

/**
 * A deterministic library item, in the short form GET /api/libraries/:id/items answers with in ABS 2.x
 * (LibraryItem.toOldJSONMinified): authors and series as strings, a co-author on every 10th book and
 * a second series on every 7th.
 */
function item(n, revision = 0) {
  const series = n % 5 === 0 ? [] : [`Series ${Math.floor(n / 12)} #${(n % 12) + 1}`];
  if (n % 7 === 0) series.push(`Omnibus ${n % 50} #${(n % 3) + 1}`);
  const authors = n % 10 === 0 ? [`Author ${n % 900}`, `Author ${(n + 1) % 900}`] : [`Author ${n % 900}`];
  return {
    id: `li_${n.toString(36).padStart(6, "0")}`,
    ino: String(649644248522215260n + BigInt(n)),
    libraryId: LIBRARY.id,
    folderId: "fol_1",
    path: `/audiobooks/Author ${n % 900}/Book ${n}`,
    mediaType: "book",
    addedAt: 1_700_000_000_000 + n * 60_000,
    updatedAt: 1_700_000_000_000 + n * 60_000 + revision,
    isMissing: false,
    isInvalid: false,
    media: {
      id: `media_${n}`,
      metadata: {
        title: `Book ${n}${revision ? " (revised)" : ""}`,
        titleIgnorePrefix: `Book ${n}${revision ? " (revised)" : ""}`,
        subtitle: n % 3 === 0 ? `A Novel, part ${n % 7}` : null,
        authorName: authors.join(", "),
        authorNameLF: authors.map((a) => a.split(" ").reverse().join(", ")).join(", "),
        narratorName: `Narrator ${n % 400}`,
        seriesName: series.join(", "),
        genres: ["Fantasy", n % 2 ? "Adventure" : "Science Fiction"],
        publishedYear: String(1950 + (n % 75)),
        publishedDate: null,
        publisher: `Publisher ${n % 60}`,
        description: `The ${n}th book of the benchmark library. `.repeat(6),
        isbn: n % 4 === 0 ? null : `978${String(1_000_000_000 + n).slice(0, 10)}`,
        asin: `B0${String(n).padStart(8, "0")}`,
        language: "English",
        explicit: false,
        abridged: false,
      },
      coverPath: null,
      tags: [],
      duration: 36_000 + n,
      size: 500_000_000,
      numTracks: 1,
      numAudioFiles: 1,
      numChapters: 20,
    },
    numFiles: 2,
    size: 500_000_000,
  };
}

/** The fake Audiobookshelf: the libraries, and the items page by page (0-based, `limit` per page). */
function fakeAbs(count) {
  const revisions = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://abs");
    const send = (status, body) => {
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, "Unauthorized");
    if (url.pathname === "/api/libraries") return send(200, { libraries: [LIBRARY] });
    if (url.pathname === `/api/libraries/${LIBRARY.id}/items`) {
      const limit = Number(url.searchParams.get("limit") ?? 0) || count;
      const page = Number(url.searchParams.get("page") ?? 0);
      const results = [];
      for (let n = page * limit; n < Math.min(count, (page + 1) * limit); n++) results.push(item(n, revisions.get(n) ?? 0));
      return send(200, {
        results,
        total: count,
        limit,
        page,
        sortBy: url.searchParams.get("sort") ?? undefined,
        sortDesc: false,
        mediaType: "book",
        minified: true,
        collapseseries: false,
        include: "",
        offset: page * limit,
      });
    }
    send(404, "Not Found");
  });
  return {
    server,
    change: (n) => revisions.set(n, (revisions.get(n) ?? 0) + 1),
    listen: () => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port))),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Runs the three syncs; answers their numbers. */
export async function syncBench({ work, logDir, devVars, say }) {
  const abs = fakeAbs(SYNC_ITEMS);
  const port = await abs.listen();
  const persistTo = path.join(work, "sync");
  const migrated = runTool("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], { env: { CI: "true" } });
  if (migrated.status !== 0) throw new Error(`migrating the sync database failed:\n${migrated.stdout}${migrated.stderr}`);
  const envFile = path.join(work, "sync.env");
  // The example's ABS_* lines would come first, and the first of a name wins.
  const vars = devVars.replace(/^ABS_.*$/gm, "");
  writeFileSync(envFile, `${vars}\nABS_URL=http://127.0.0.1:${port}\nABS_TOKEN=${TOKEN}\nUPSTREAM_TIMEOUT_MS=30000\n`);
  const server = await startWorker({ name: "sync", config: "bench/sync/wrangler.toml", persistTo, logDir, envFile });
  const runs = [];
  try {
    for (const label of [
      `first sync (${SYNC_ITEMS.toLocaleString("en-US")} new)`,
      "second sync, nothing changed",
      "third sync, one item changed",
    ]) {
      if (runs.length === 2) abs.change(4_321);
      const started = Date.now();
      const response = await fetch(`${server.url}/sync`, { method: "POST" });
      const body = await response.json();
      if (!response.ok) throw new Error(`sync: ${response.status} ${JSON.stringify(body)}`);
      const { created, updated, unchanged, archived } = body.result;
      const run = {
        label,
        statements: body.statements,
        round_trips: body.round_trips,
        sync_ms: body.ms,
        wall_ms: Date.now() - started,
        created,
        updated,
        unchanged,
        archived,
      };
      say(`${label}: ${run.statements} statements, ${run.round_trips} round trips, ${run.sync_ms} ms`);
      runs.push(run);
    }
  } finally {
    await stopWorker(server);
    await abs.close();
  }
  return runs;
}

/** The runs as a table. */
export function syncTable(runs) {
  const rows = [["sync", "D1 statements", "round trips", "time (s)", "created / updated / unchanged"]];
  for (const r of runs)
    rows.push([
      r.label,
      String(r.statements),
      String(r.round_trips),
      (r.sync_ms / 1000).toFixed(1),
      `${r.created} / ${r.updated} / ${r.unchanged}`,
    ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ")).join("\n");
}
