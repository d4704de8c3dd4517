// `npm run bench`: what a request costs on this runtime, against the floor and against a published
// Durable Object rate limiter. `npm run bench -- --help` lists the parts that run alone. Every Worker is served by `wrangler dev` (local workerd) on a port and
// state directory of its own, load comes from this process with autocannon, and the answer is a
// table on stdout and bench/results/latest.json. Takes about 10 minutes on 2 cores; the last part is
// the latency model of a far caller (bench/lib/model.js), which `npm run bench -- model` runs alone,
// then the 10,000-item Audiobookshelf sync (bench/lib/sync.js), which `npm run bench -- sync` runs alone.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { root } from "../scripts/lib/tool.js";
import { TIERS } from "../src/rate-limit/tiers.ts";
import { CATALOGUE_SERIES, catalogueBench, catalogueTable } from "./lib/catalogue.js";
import { costBench, costTable, devServerNote } from "./lib/cost.js";
import { concurrent, straddle } from "./lib/exactness.js";
import { computeCompletion, seedLibrary } from "./lib/library.js";
import { LOAD, measure } from "./lib/load.js";
import { latencyModel, modelTable, throughputTable } from "./lib/model.js";
import { profileRoute, summarize } from "./lib/profile.js";
import { exactnessTable, goals, goalsTable, plansText, table } from "./lib/report.js";
import { startWorker, stopAll, stopWorker } from "./lib/server.js";
import { bundleSize, gitCommit, STARTUP_TARGETS, startupTable, startupTime } from "./lib/startup.js";
import { SYNC_ITEMS, syncBench, syncTable } from "./lib/sync.js";

const LIBRARY_SIZES = [1_000, 100_000];
// Each target is measured this many times, the rounds apart, and its best run is reported: other
// work on a shared machine only ever slows a run down (each row says how busy the machine was).
const ROUNDS = 2;
const RESULTS = path.join(root, "bench", "results", "latest.json");
const MODEL_RESULTS = path.join(root, "bench", "results", "model.json");
const SYNC_RESULTS = path.join(root, "bench", "results", "sync.json");
const ARGS = process.argv.slice(2);
const HELP = `npm run bench [-- <part>]

  (no part)  everything below in turn, about 15 minutes on 2 cores: the cost of a request, the
             floor/peer throughput runs at 1,000 and 100,000 books, the latency model, the sync
  cost       startup (as below) and the server's CPU per request (/health/live, the book list,
             search, the login's PBKDF2) and throughput beside the floor, about 4 minutes
  startup    bundle size and cold start of the API and the floor, about 2 minutes
  profile    CPU profiles of the hot routes inside workerd (its inspector), .cpuprofile files
  model      the latency model of a far caller, about 5 minutes
  sync       the 10,000-item Audiobookshelf sync, about a minute
  catalogue  the CATALOGUE refresh of a 300-series library tick by tick (Audible calls, D1, ticks), under a minute

The cost and startup figures are kept by commit in bench/results/<commit>.json (not committed:
they belong to this machine); each run prints them beside the last other commit measured here.`;
if (ARGS.includes("--help") || ARGS.includes("-h")) {
  console.log(HELP);
  process.exit(0);
}
const PARTS = ["cost", "startup", "profile", "model", "sync", "catalogue"];
const unknown = ARGS.filter((arg) => !PARTS.includes(arg));
if (unknown.length > 0) {
  console.error(`bench: unknown part ${unknown.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const ONLY_MODEL = ARGS.includes("model");
const ONLY_COST = ARGS.includes("cost");
const ONLY_PROFILE = ARGS.includes("profile");
const STARTUP_RESULTS = path.join(root, "bench", "results", "startup.json");
const RESULTS_DIR = path.join(root, "bench", "results");
const ONLY_STARTUP = ARGS.includes("startup");
// Startup profiles per Worker: the machine's other work only adds to a run, so the best is the
// figure to compare and the median says how noisy the runs were.
const STARTUP_RUNS = 5;
const ONLY_SYNC = ARGS.includes("sync");
const ONLY_CATALOGUE = ARGS.includes("catalogue");
const CATALOGUE_RESULTS = path.join(root, "bench", "results", "catalogue.json");
// A caller looking for one author: about 1 in 550 books match. The broad term matches 1 in 16,
// and a search ranks and counts every match, so its cost grows with the library.
const SEARCH_TERM = "Keiko Tanaka";
const BROAD_TERM = "kingdom";
// Workers' storage (D1, Durable Objects) is local SQLite here; on tmpfs its commits cost what
// they cost workerd, not this machine's disk flushes. BENCH_TMPDIR=/tmp measures on disk.
const STATE_ROOT = process.env.BENCH_TMPDIR ?? (existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir());

// The development secrets are public and local-only; every tier is raised so that the Durable
// Object is asked on every request and never refuses.
const devVars = readFileSync(path.join(root, ".dev.vars.example"), "utf8");
const API_KEY = /^API_KEY=(.*)$/m.exec(devVars)?.[1]?.trim();
if (!API_KEY) throw new Error(".dev.vars.example has no API_KEY");
const RATE_LIMITS = Object.fromEntries(TIERS.map((tier) => [tier, "9999999/minute"]));
const AUTH = { "X-API-Key": API_KEY };
const JSON_AUTH = { ...AUTH, "Content-Type": "application/json" };

const READS = [
  { id: "list", label: "GET /api/books?limit=20", path: "/api/books?limit=20", headers: AUTH },
  {
    id: "search",
    label: `GET /api/books/search?query=${SEARCH_TERM}`,
    path: `/api/books/search?query=${encodeURIComponent(SEARCH_TERM)}&limit=20`,
    headers: AUTH,
  },
  {
    id: "search-broad",
    label: `GET /api/books/search?query=${BROAD_TERM}`,
    path: `/api/books/search?query=${BROAD_TERM}&limit=20`,
    headers: AUTH,
  },
  { id: "summary", label: "GET /api/series/completion-summary", path: "/api/series/completion-summary", headers: AUTH },
];
// After the reads at each size: it adds rows (and recomputes one series' and one author's completion).
const CREATE = {
  id: "create",
  label: "POST /api/books",
  method: "POST",
  path: "/api/books",
  headers: JSON_AUTH,
  body: JSON.stringify({
    title: "The Hollow Lantern",
    author: "Keiko Tanaka",
    series: "Hollow Lantern Cycle",
    series_number: "3",
    narrator: "Ada Abbott",
  }),
};

// The routes of bench/peer: the same Worker, differing only in the limiter.
const PEER_LIMITERS = [
  { id: "peer", label: "peer: hono-rate-limiter, DO store (key-value, as its README)" },
  { id: "peer-sqlite", label: "peer: hono-rate-limiter, DO store on SQLite storage" },
  { id: "ours", label: "peer: the same route with our limiter" },
];

const work = mkdtempSync(path.join(STATE_ROOT, "mamcrawler-bench-"));
const logDir = path.join(work, "logs");
mkdirSync(logDir);
const envFile = path.join(work, "bench.env");
writeFileSync(envFile, `${devVars}\nRATE_LIMITS=${JSON.stringify(RATE_LIMITS)}\n`);

const started = Date.now();
const results = {
  date: new Date().toISOString(),
  machine: machine(),
  load: { ...LOAD, rounds: ROUNDS, tool: "autocannon" },
  library_sizes: LIBRARY_SIZES,
  search_terms: { typical: SEARCH_TERM, broad: BROAD_TERM },
  state_dir: STATE_ROOT,
  targets: [],
  exactness: {},
};

function machine() {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_average_at_start: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

const say = (message) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);

/** Measures `targets` round after round and keeps each one's best run (the most requests/s). */
async function recordBest(server, targets, extra = {}) {
  const best = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of targets) {
      const numbers = await measure(server, target);
      const label = `${target.label}${extra.books ? ` (${extra.books.toLocaleString("en-US")} books)` : ""}`;
      say(
        `${label}: ${numbers.rps} req/s, p50 ${numbers.p50_ms} ms, p99 ${numbers.p99_ms} ms, ${numbers.errors} errors, others' CPU ${numbers.others_cpu_pct} %`,
      );
      const kept = best.get(target.id);
      const runs = [...(kept?.runs_rps ?? []), numbers.rps];
      best.set(
        target.id,
        !kept || numbers.rps > kept.rps
          ? { id: target.id, label: target.label, ...extra, ...numbers, runs_rps: runs }
          : { ...kept, runs_rps: runs },
      );
    }
  }
  results.targets.push(...best.values());
}

async function withServer(options, body) {
  say(`starting ${options.name}`);
  const server = await startWorker({ logDir, envFile, ...options });
  try {
    return await body(server);
  } finally {
    await stopWorker(server);
  }
}

/** The latency model with the throughput of the same routes, before and after; its own results file. */
async function runModel() {
  const model = await latencyModel({ work, logDir, envFile, operatorKey: API_KEY, searchTerm: SEARCH_TERM, say });
  model.date = new Date().toISOString();
  model.machine = machine();
  mkdirSync(path.dirname(MODEL_RESULTS), { recursive: true });
  writeFileSync(MODEL_RESULTS, `${JSON.stringify(model, null, 2)}\n`);
  console.log(
    `\nLatency model of a far caller (D1 primary 150 ms, nearest replica 10 ms, limiter 5 ms a round trip), ` +
      `${model.books.toLocaleString("en-US")} books; before = ${model.before_commit.slice(0, 7)}:\n`,
  );
  console.log(modelTable(model));
  console.log(
    `\nMeasured local throughput of the same routes (no delays, named key, autocannon ${LOAD.connections} connections, ${LOAD.durationSeconds} s):\n`,
  );
  console.log(throughputTable(model));
  console.log(`\n${path.relative(process.cwd(), MODEL_RESULTS)}`);
}

/** Bundle size and cold start of the API and of the floor (bench/lib/startup.js); its own results file. */
async function runStartup({ print = true } = {}) {
  const rows = [];
  for (const target of STARTUP_TARGETS) {
    const outdir = path.join(work, `startup-${target.id}`);
    say(`${target.label}: wrangler deploy --dry-run`);
    const { bundle, size } = bundleSize(target, outdir);
    say(`${target.label}: ${size.upload_kib} KiB / gzip ${size.upload_gzip_kib} KiB; ${STARTUP_RUNS} startup profiles`);
    const startup = startupTime(target, bundle, outdir, STARTUP_RUNS);
    rows.push({ id: target.id, label: target.label, ...size, ...startup });
  }
  const report = { date: new Date().toISOString(), machine: machine(), commit: gitCommit(), rows };
  mkdirSync(path.dirname(STARTUP_RESULTS), { recursive: true });
  writeFileSync(STARTUP_RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  if (print) printStartup(report);
  return report;
}

function printStartup(report) {
  console.log(
    `\nBundle size (wrangler deploy --dry-run) and startup (wrangler check startup: busy CPU ms of the startup phase in local workerd), at ${report.commit}; ` +
      "issue (first main) is issue 24's figure, measured the same way:\n",
  );
  console.log(startupTable(report.rows));
}

/**
 * Startup, then CPU per request and throughput beside the floor (bench/lib/cost.js), kept as
 * bench/results/<commit>.json and printed beside the last other commit measured on this machine.
 */
async function runCost() {
  const startup = await runStartup({ print: false });
  const cost = await costBench({ work, logDir, envFile, devVars, auth: AUTH, searchPath: READS[1].path, say });
  const commit = gitCommit();
  const report = { commit, date: new Date().toISOString(), machine: machine(), startup: startup.rows, cost };
  const file = path.join(RESULTS_DIR, `${commit.replace(/\s.*/, "")}${commit.includes(" ") ? "-dirty" : ""}.json`);
  const previous = lastOtherCommit(file);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  printStartup(startup);
  console.log(
    `\nServer CPU per request (every process of wrangler dev, /proc) and throughput, ${cost.books.toLocaleString("en-US")} books, best of ${cost.rounds}; ` +
      "the issue (first main) columns are issue 24's figures, measured the same way:\n",
  );
  console.log(costTable(cost));
  console.log(`\n${devServerNote(cost)}`);
  if (previous) {
    console.log(`\nThe last other commit measured here, ${previous.commit} (${previous.date.slice(0, 16)}):\n`);
    printStartup({ commit: previous.commit, rows: previous.startup });
    console.log("");
    console.log(costTable(previous.cost));
  }
  console.log(`\n${path.relative(process.cwd(), file)}`);
}

/** The newest results file of another commit (a regression shows against it). */
function lastOtherCommit(file) {
  if (!existsSync(RESULTS_DIR)) return undefined;
  const others = readdirSync(RESULTS_DIR)
    .filter((name) => /^[0-9a-f]{7,}(-dirty)?\.json$/.test(name) && path.join(RESULTS_DIR, name) !== file)
    .map((name) => path.join(RESULTS_DIR, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return others.length > 0 ? JSON.parse(readFileSync(others[0], "utf8")) : undefined;
}

/** CPU profiles of the hot routes inside workerd (bench/lib/profile.js), one .cpuprofile each. */
async function runProfile() {
  const persistTo = path.join(work, "profile-app");
  seedLibrary({ count: 1_000, persistTo, workDir: work });
  const dir = path.join(RESULTS_DIR, "profiles");
  mkdirSync(dir, { recursive: true });
  const targets = [{ id: "live", label: "GET /health/live", path: "/health/live" }, ...READS.slice(0, 2)];
  await withServer({ name: "profile-app", config: "wrangler.toml", persistTo, readyPath: "/health/live" }, async (server) => {
    for (const target of targets) {
      const { profile, requests } = await profileRoute(server, target);
      const file = path.join(dir, `${target.id}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const summary = summarize(profile, requests);
      console.log(
        `\n${target.label}: ${summary.busy_ms_per_request} ms busy a request (profiler on), ${path.relative(process.cwd(), file)}`,
      );
      for (const f of summary.functions) console.log(`  ${f.ms_per_request.toFixed(3).padStart(7)} ms  ${f.name}`);
    }
  });
}

/** The Audiobookshelf sync: D1 statements, round trips and time of a first, an unchanged and a one-change sync; its own results file. */
async function runSync() {
  const runs = await syncBench({ work, logDir, devVars, say });
  const result = { date: new Date().toISOString(), machine: machine(), items: SYNC_ITEMS, runs };
  mkdirSync(path.dirname(SYNC_RESULTS), { recursive: true });
  writeFileSync(SYNC_RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nAudiobookshelf sync of ${SYNC_ITEMS.toLocaleString("en-US")} items (fake ABS on loopback, local D1, wrangler dev):\n`);
  console.log(syncTable(runs));
  console.log(`\n${path.relative(process.cwd(), SYNC_RESULTS)}`);
}

async function runCatalogue() {
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    series: CATALOGUE_SERIES,
    ...(await catalogueBench({ work, logDir, devVars, say })),
  };
  mkdirSync(path.dirname(CATALOGUE_RESULTS), { recursive: true });
  writeFileSync(CATALOGUE_RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `\nThe series catalogue's refresh of ${CATALOGUE_SERIES} series, tick by tick (fake Audible on loopback, local D1, wrangler dev):\n`,
  );
  console.log(catalogueTable(result));
  console.log(`\n${path.relative(process.cwd(), CATALOGUE_RESULTS)}`);
}

async function main() {
  if (ONLY_MODEL) return runModel();
  if (ONLY_CATALOGUE) return runCatalogue();
  if (ONLY_STARTUP) return runStartup();
  if (ONLY_COST) return runCost();
  if (ONLY_PROFILE) return runProfile();
  if (ONLY_SYNC) return runSync();
  await runCost();
  // The floor is measured first and last (its server idles in between): its best run is the one
  // every ratio divides by.
  const floor = await startWorker({
    name: "floor",
    config: "bench/floor/wrangler.toml",
    persistTo: path.join(work, "floor"),
    logDir,
    envFile,
  });
  const floorTarget = { id: "floor", label: "floor: bare Hono `ok`", path: "/" };
  const floorRuns = [await measure(floor, floorTarget)];
  say(`floor: ${floorRuns[0].rps} req/s, others' CPU ${floorRuns[0].others_cpu_pct} %`);

  for (const books of LIBRARY_SIZES) {
    const persistTo = path.join(work, `app-${books}`);
    say(`seeding ${books.toLocaleString("en-US")} books with their series and authors`);
    seedLibrary({ count: books, persistTo, workDir: work });
    await withServer({ name: `app-${books}`, config: "wrangler.toml", persistTo, readyPath: "/health/live" }, async (server) => {
      await computeCompletion(server, AUTH);
      // Liveness reads no data: measured at the first size only.
      const live = books === LIBRARY_SIZES[0] ? [{ id: "live", label: "GET /health/live", path: "/health/live" }] : [];
      await recordBest(server, [...live, ...READS], { books });
      await recordBest(server, [CREATE], { books });
    });
  }

  // The plans of what those routes ran, on the largest library (its server is stopped by now).
  const largest = path.join(work, `app-${LIBRARY_SIZES.at(-1)}`);
  await withServer({ name: "plans", config: "bench/plans/wrangler.toml", persistTo: largest }, async (server) => {
    const response = await fetch(`${server.url}/plans?${new URLSearchParams({ typical: SEARCH_TERM, broad: BROAD_TERM })}`);
    if (!response.ok) throw new Error(`plans: ${response.status} ${await response.text()}`);
    results.plans = await response.json();
  });

  await withServer(
    { name: "peer", config: "bench/peer/wrangler.toml", persistTo: path.join(work, "peer"), readyPath: "/ours/open" },
    async (server) => {
      const run = `run${Date.now()}`;
      const client = { "X-Bench-Client": run };
      await recordBest(
        server,
        PEER_LIMITERS.map(({ id, label }) => ({ id: `peer-${id}`, label, path: `/${id}/open`, headers: client })),
      );
      say("exactness: 200 at once, then bursts straddling a window (about 11 s)");
      for (const { id } of PEER_LIMITERS) results.exactness[id] = { concurrent: await concurrent(server.url, id, run) };
      const straddles = await Promise.all(PEER_LIMITERS.map(({ id }) => straddle(server.url, id, run)));
      for (const [i, { id }] of PEER_LIMITERS.entries()) results.exactness[id].straddle = straddles[i];
    },
  );

  floorRuns.push(await measure(floor, floorTarget));
  say(`floor: ${floorRuns[1].rps} req/s, others' CPU ${floorRuns[1].others_cpu_pct} %`);
  await stopWorker(floor);
  const bestFloor = floorRuns.reduce((a, b) => (b.rps > a.rps ? b : a));
  results.targets.unshift({ ...floorTarget, ...bestFloor, runs_rps: floorRuns.map((r) => r.rps) });

  results.goals = goals(results);
  results.total_seconds = Math.round((Date.now() - started) / 1000);
  results.machine.load_average_at_end = os.loadavg().map((n) => Math.round(n * 100) / 100);
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  const m = results.machine;
  console.log(
    `\n${results.date.slice(0, 10)}: ${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB, Node ${m.node}; ` +
      `autocannon ${LOAD.connections} connections, ${LOAD.durationSeconds} s per target after ${LOAD.warmupSeconds} s warm-up, best of ${ROUNDS} rounds; ` +
      `load average ${m.load_average_at_start[0]} at start, ${m.load_average_at_end[0]} at end\n`,
  );
  console.log(table(results.targets));
  console.log(`\n${exactnessTable(results.exactness)}\n\n${goalsTable(results.goals)}\n`);
  console.log(`Query plans at ${LIBRARY_SIZES.at(-1).toLocaleString("en-US")} books:\n${plansText(results.plans)}\n`);
  console.log(`total ${results.total_seconds} s; ${path.relative(process.cwd(), RESULTS)}`);
  await runModel();
  await runSync();
}

// Ctrl-C or a failure mid-run still stops every server; the state directories go, except the
// logs of a failed run.
let cleaning;
function cleanUp({ keepLogs = false } = {}) {
  cleaning ??= stopAll().finally(() => {
    for (const entry of readdirSync(work))
      if (!(keepLogs && entry === "logs")) rmSync(path.join(work, entry), { recursive: true, force: true });
    if (!keepLogs) rmSync(work, { recursive: true, force: true });
  });
  return cleaning;
}
process.on("SIGINT", () => cleanUp().then(() => process.exit(130)));
process.on("SIGTERM", () => cleanUp().then(() => process.exit(143)));

try {
  await main();
  await cleanUp();
} catch (error) {
  console.error(`bench: ${error.stack ?? error}\n(server logs kept in ${logDir})`);
  process.exitCode = 1;
  await cleanUp({ keepLogs: true });
}
