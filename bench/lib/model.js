// The latency model (README, Performance): the API as a caller far from the D1 primary sees it.
// The same routes run twice on the same seeded database: the code as it was before D1 sessions and
// the concurrent critical path (BEFORE_COMMIT, taken from git) and the code of this checkout.
// Each version is served by `wrangler dev` through bench/model/distances.ts, which delays every D1
// and Durable Object call by its modelled round trip; what runs side by side or in sequence is the
// app's own doing. One caller, one request at a time: the median of MEASURED requests per row.
// Then the same routes without delays under load, for the measured local throughput of each version.
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "../../scripts/lib/tool.js";
import { seedLibrary } from "./library.js";
import { measure } from "./load.js";
import { startWorker, stopWorker } from "./server.js";

/** main before this work: every query on the primary, limiter, auth and queries one after another. */
export const BEFORE_COMMIT = "21faedd44b7aed77b96fba8ffd2bfe7a9ccac841";
const BOOKS = 1_000;
const WARM_UP = 3;
const MEASURED = 11;
/** Sent by the throughput runs: the model Worker then hands the app its bindings undelayed. */
const UNDELAYED = { "X-Bench-Distance": "none" };

/** The code of `commit` in `dir`, resolving its packages from this checkout's node_modules. */
function checkout(commit, dir) {
  mkdirSync(dir, { recursive: true });
  try {
    const archive = execFileSync("git", ["-C", root, "archive", "--format=tar", commit, "src", "drizzle", "package.json"], {
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
  } catch (error) {
    throw new Error(`the latency model needs commit ${commit.slice(0, 7)} (a full clone of the repository): ${error.message}`);
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** A wrangler config serving `app` (a folder with src/) through the modelled distances. */
function modelWorker(work, id, app) {
  const dir = path.join(work, `model-${id}`);
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, "entry.ts");
  writeFileSync(
    entry,
    `import worker, { RateLimiter } from ${JSON.stringify(path.join(app, "src", "index.ts"))};
import { farCaller, Timeline, timelines } from ${JSON.stringify(path.join(root, "bench", "model", "distances.ts"))};
export { RateLimiter };
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (request.headers.get("X-Bench-Distance") === "none") return worker.fetch(request, env, ctx);
    const timeline = new Timeline();
    const response = await timelines.run(timeline, () => worker.fetch(request, farCaller(env), ctx));
    const { remoteMs, sequentialCalls } = timeline.close();
    const answer = new Response(response.body, response);
    answer.headers.set("X-Bench-Remote-Ms", String(remoteMs));
    answer.headers.set("X-Bench-Sequential-Calls", String(sequentialCalls));
    return answer;
  },
};
`,
  );
  const config = path.join(dir, "wrangler.toml");
  writeFileSync(
    config,
    `name = "bench-model-${id}"
main = "entry.ts"
compatibility_date = "2026-11-01"
compatibility_flags = ["nodejs_compat"]

[vars]
ENVIRONMENT = "development"
ALLOWED_ORIGINS = ""

# The same local database as ../../wrangler.toml (same id, same state directory).
[[d1_databases]]
binding = "DB"
database_name = "mamcrawler"
database_id = "00000000-0000-0000-0000-000000000000"
migrations_dir = ${JSON.stringify(path.join(root, "drizzle"))}

[[durable_objects.bindings]]
name = "RATE_LIMITER"
class_name = "RateLimiter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["RateLimiter"]
`,
  );
  return config;
}

async function call(server, { method = "GET", path: url, headers = {}, body }) {
  const response = await fetch(server.url + url, { method, headers, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** A named operator key and a moderator's JWT, made through the API with the operator key. */
async function credentials(server, operatorKey) {
  const admin = { "X-API-Key": operatorKey, "Content-Type": "application/json" };
  const suffix = Date.now().toString(36);
  const { data: keyData } = await call(server, {
    method: "POST",
    path: "/api/admin/api-keys",
    headers: admin,
    body: JSON.stringify({ name: `bench-${suffix}`, role: "operator" }),
  });
  const username = `bench_${suffix}`;
  const password = `bench-password-${suffix}`;
  await call(server, {
    method: "POST",
    path: "/api/admin/users",
    headers: admin,
    body: JSON.stringify({ username, email: `${username}@example.test`, password, role: "moderator" }),
  });
  const { data: login } = await call(server, {
    method: "POST",
    path: "/api/admin/login",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return [
    { id: "key", label: "named key", headers: { "X-API-Key": keyData.api_key.key } },
    { id: "jwt", label: "JWT", headers: { Authorization: `Bearer ${login.access_token}` } },
  ];
}

function routes(bookId, searchTerm) {
  const body = JSON.stringify({ title: "The Far Shore", author: "Keiko Tanaka", series: "Hollow Lantern Cycle", series_number: "4" });
  return [
    { id: "live", label: "GET /health/live", path: "/health/live", anonymous: true },
    { id: "list", label: "GET /api/books?limit=20", path: "/api/books?limit=20" },
    {
      id: "search",
      label: `GET /api/books/search?query=${searchTerm}`,
      path: `/api/books/search?query=${encodeURIComponent(searchTerm)}&limit=20`,
    },
    { id: "get", label: "GET /api/books/:id", path: `/api/books/${bookId}` },
    { id: "create", label: "POST /api/books", method: "POST", path: "/api/books", body, json: true },
  ];
}

/**
 * One caller's sequential requests: the modelled latency (the remote calls' critical path on the
 * model's clock, as the Worker reports it; the same on every run) with the longest chain of
 * sequential remote calls, and the median wall time here (that plus this machine's CPU and load).
 */
async function latency(server, route, headers) {
  const walls = [];
  let modelled;
  for (let i = 0; i < WARM_UP + MEASURED; i++) {
    const started = performance.now();
    const response = await fetch(server.url + route.path, {
      method: route.method ?? "GET",
      headers: { ...headers, ...(route.json ? { "Content-Type": "application/json" } : {}) },
      body: route.body,
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${route.label}: ${response.status}`);
    if (i < WARM_UP) continue;
    walls.push(performance.now() - started);
    const remote = {
      ms: Number(response.headers.get("X-Bench-Remote-Ms")),
      calls: Number(response.headers.get("X-Bench-Sequential-Calls")),
    };
    // The most any request paid (one that refreshed a cache or a key's last use pays more).
    if (!modelled || remote.ms > modelled.ms) modelled = remote;
  }
  walls.sort((a, b) => a - b);
  return { modelled_ms: modelled.ms, sequential_calls: modelled.calls, wall_median_ms: Math.round(walls[Math.floor(walls.length / 2)]) };
}

/**
 * Runs the model for both versions; answers `{ distances, before_commit, rows, throughput }`.
 * `operatorKey` makes the named key and the user the rows are measured with.
 */
export async function latencyModel({ work, logDir, envFile, operatorKey, searchTerm, say, throughput = true }) {
  const persistTo = path.join(work, "model-state");
  say(`latency model: seeding ${BOOKS.toLocaleString("en-US")} books`);
  seedLibrary({ count: BOOKS, persistTo, workDir: work });
  const versions = [
    { id: "before", label: `before (${BEFORE_COMMIT.slice(0, 7)})`, app: checkout(BEFORE_COMMIT, path.join(work, "before")) },
    { id: "after", label: "after (this checkout)", app: root },
  ];
  const rows = new Map();
  const rates = new Map();
  let creds;
  let routeList;
  for (const version of versions) {
    const server = await startWorker({
      name: `model-${version.id}`,
      config: modelWorker(work, version.id, version.app),
      persistTo,
      envFile,
      logDir,
      readyPath: "/health/live",
    });
    try {
      if (!creds) {
        const operator = { "X-API-Key": operatorKey, ...UNDELAYED };
        creds = await credentials(server, operatorKey);
        const { data } = await call(server, {
          method: "POST",
          path: "/api/books",
          headers: { ...operator, "Content-Type": "application/json" },
          body: JSON.stringify({ title: "The Near Shore", author: "Keiko Tanaka" }),
        });
        routeList = routes(data.book_id, searchTerm);
      }
      for (const route of routeList) {
        for (const cred of route.anonymous ? [{ id: "none", label: "none", headers: {} }] : creds) {
          const key = `${route.id}:${cred.id}`;
          const numbers = await latency(server, route, cred.headers);
          say(
            `model ${version.id}: ${route.label} (${cred.label}): modelled ${numbers.modelled_ms} ms, ${numbers.sequential_calls} sequential remote calls, wall here ${numbers.wall_median_ms} ms`,
          );
          const row = rows.get(key) ?? { route: route.label, credential: cred.label, write: route.method === "POST" };
          row[version.id] = numbers;
          rows.set(key, row);
        }
      }
      if (throughput) {
        for (const route of routeList) {
          const numbers = await measure(server, {
            ...route,
            headers: {
              ...(route.anonymous ? {} : creds[0].headers),
              ...(route.json ? { "Content-Type": "application/json" } : {}),
              ...UNDELAYED,
            },
          });
          say(
            `throughput ${version.id}: ${route.label}: ${numbers.rps} req/s, ${numbers.errors} errors, others' CPU ${numbers.others_cpu_pct} %`,
          );
          const row = rates.get(route.id) ?? { route: route.label };
          row[version.id] = numbers;
          rates.set(route.id, row);
        }
      }
    } finally {
      await stopWorker(server);
    }
  }
  return {
    before_commit: BEFORE_COMMIT,
    books: BOOKS,
    measured_requests: MEASURED,
    rows: [...rows.values()],
    throughput: [...rates.values()],
  };
}

const cell = (n) => (n === undefined ? "–" : `${n.modelled_ms.toLocaleString("en-US")} (${n.sequential_calls})`);

/** The model's Markdown table: modelled latency (and sequential remote calls) per route and credential. */
export function modelTable(model) {
  const lines = [
    "| route | credential | before: ms (sequential remote calls) | after: ms (sequential remote calls) | goal |",
    "|---|---|---:|---:|---|",
  ];
  for (const row of model.rows) {
    const after = row.after?.modelled_ms;
    const goal = row.write
      ? "one primary round trip + what cannot overlap"
      : `≤ 30 ms${after === undefined ? "" : after <= 30 ? " ✓" : " ✗"}`;
    lines.push(`| ${row.route} | ${row.credential} | ${cell(row.before)} | ${cell(row.after)} | ${goal} |`);
  }
  return lines.join("\n");
}

/** Measured local throughput (no delays, named key, autocannon) of the same routes, before and after. */
export function throughputTable(model) {
  const lines = [
    "| route | before req/s | after req/s | before p50 ms | after p50 ms | errors | others' CPU |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const row of model.throughput) {
    const b = row.before ?? {};
    const a = row.after ?? {};
    lines.push(
      `| ${row.route} | ${b.rps ?? "–"} | ${a.rps ?? "–"} | ${b.p50_ms ?? "–"} | ${a.p50_ms ?? "–"} | ${(b.errors ?? 0) + (a.errors ?? 0)} | ${b.others_cpu_pct ?? "–"} % / ${a.others_cpu_pct ?? "–"} % |`,
    );
  }
  return lines.join("\n");
}
