// What a request costs in CPU, the figure Workers bills (the Free plan allows 10 ms a request):
// the server's own CPU per request (every process of its `wrangler dev`, read from /proc) for the
// hot routes and the login, beside the floor served the same way in the same run. Each target is
// measured ROUNDS times, the rounds apart, and its lowest CPU per request is kept: other work on
// a shared machine only ever adds to a run. Throughput (requests/s) comes from the same runs.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { firstAdminSql } from "../../scripts/first-admin-sql.js";
import { runTool } from "../../scripts/lib/tool.js";
import { hashPassword } from "../../src/lib/password.ts";
import { FIRST_MAIN } from "./first-main.js";
import { seedLibrary } from "./library.js";
import { measure } from "./load.js";
import { startWorker, stopWorker } from "./server.js";

const ROUNDS = 3;
const BOOKS = 1_000;
const LOGIN = { username: "bench-admin", password: "bench-password-0000" };

/** The issue's goals: CPU per request as a multiple of the floor's. */
export const COST_GOALS = { live: 1.5, list: 2.5, search: 2.5 };

/** An admin in the seeded database, hashed by the Worker's own code with the run's pepper. */
async function addLoginUser(persistTo, workDir, devVars) {
  const pepper = /^PASSWORD_SALT=(.*)$/m.exec(devVars)?.[1]?.trim();
  const sql = firstAdminSql({
    username: LOGIN.username,
    email: "bench@example.com",
    passwordHash: await hashPassword(LOGIN.password, pepper),
  });
  const file = path.join(workDir, "login-user.sql");
  writeFileSync(file, sql);
  const result = runTool("wrangler", ["d1", "execute", "DB", "--local", "--yes", "--persist-to", persistTo, "--file", file], {
    env: { CI: "true" },
  });
  if (result.status !== 0) throw new Error(`adding the login user failed:\n${result.stdout}${result.stderr}`);
}

/** Keeps each target's run with the least server CPU per request, and every run's figure. */
async function lowest(server, target, rounds, say) {
  let best;
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    const numbers = await measure(server, target);
    runs.push(numbers.server_cpu_ms_per_request);
    say(
      `${target.label}: ${numbers.server_cpu_ms_per_request} ms CPU a request (the Worker's workerd ${numbers.worker_workerd_cpu_ms_per_request}, front workerd ${numbers.front_workerd_cpu_ms_per_request}, Node ${numbers.node_cpu_ms_per_request}), ${numbers.rps} req/s, ${numbers.errors} errors, others' CPU ${numbers.others_cpu_pct} %`,
    );
    if (!best || numbers.server_cpu_ms_per_request < best.server_cpu_ms_per_request) best = numbers;
  }
  return { id: target.id, label: target.label, ...best, runs_cpu_ms: runs };
}

/**
 * The floor, then the API on a library of BOOKS books (liveness, list, search, login), then the
 * floor again; `targets` are the API's routes as run.js declares them.
 */
export async function costBench({ work, logDir, envFile, devVars, auth, searchPath, say, rounds = ROUNDS }) {
  const floor = await startWorker({
    name: "cost-floor",
    config: "bench/floor/wrangler.toml",
    persistTo: path.join(work, "cost-floor"),
    logDir,
    envFile,
  });
  const floorTarget = { id: "floor", label: "floor: bare Hono `ok`", path: "/" };
  try {
    const rows = [await lowest(floor, floorTarget, rounds, say)];
    const persistTo = path.join(work, "cost-app");
    say(`cost: seeding ${BOOKS.toLocaleString("en-US")} books and a login user`);
    seedLibrary({ count: BOOKS, persistTo, workDir: work });
    await addLoginUser(persistTo, work, devVars);
    const app = await startWorker({ name: "cost-app", config: "wrangler.toml", persistTo, logDir, envFile, readyPath: "/health/live" });
    try {
      const targets = [
        { id: "live", label: "GET /health/live", path: "/health/live" },
        { id: "list", label: "GET /api/books?limit=20", path: "/api/books?limit=20", headers: auth },
        { id: "search", label: "GET /api/books/search", path: searchPath, headers: auth },
        {
          id: "login",
          label: "POST /api/admin/login (PBKDF2, 100,000 iterations)",
          method: "POST",
          path: "/api/admin/login",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(LOGIN),
          // One at a time: the login throttle counts attempts before checking them (5 per
          // address), and a success gives the slot back; concurrent ones would lock the account.
          connections: 1,
        },
      ];
      for (const target of targets) rows.push(await lowest(app, target, target.id === "login" ? 1 : rounds, say));
    } finally {
      await stopWorker(app);
    }
    // The floor again, last: its best of both ends is what every ratio divides by.
    const again = await lowest(floor, floorTarget, 1, say);
    if (again.server_cpu_ms_per_request < rows[0].server_cpu_ms_per_request)
      rows[0] = { ...again, runs_cpu_ms: [...rows[0].runs_cpu_ms, ...again.runs_cpu_ms] };
    else rows[0].runs_cpu_ms.push(...again.runs_cpu_ms);
    return { books: BOOKS, rounds, rows };
  } finally {
    await stopWorker(floor);
  }
}

const fmt = (n, digits = 2) => (n === null || n === undefined ? "–" : Number(n).toFixed(digits));

/** The figure of issue 24's first main for a row, as the issue gives it. */
function firstMain(id) {
  if (id === "floor") {
    const floors = Object.values(FIRST_MAIN.cost).map((row) => row.floor_cpu_ms);
    return `${fmt(Math.min(...floors), 1)}–${fmt(Math.max(...floors), 1)}`;
  }
  const row = FIRST_MAIN.cost[id];
  return row ? `${fmt(row.cpu_ms, 1)} (${fmt(row.ratio, 1)}×, floor ${fmt(row.floor_cpu_ms, 1)})` : "–";
}

/** A part of a row's CPU figure, in ms a request and as a share of the whole. */
function part(row, key) {
  const ms = row[key];
  if (ms === undefined || ms === null) return "–";
  return `${fmt(ms)} (${Math.round((ms / row.server_cpu_ms_per_request) * 100)} %)`;
}

/** What wrangler dev's own processes (its front workerd and its Node process) spent, in ms a request. */
function devServerMs(row) {
  return (row.front_workerd_cpu_ms_per_request ?? 0) + (row.node_cpu_ms_per_request ?? 0);
}

/**
 * CPU per request and throughput against the floor, with the goal of each route and the issue's
 * first figures beside them. The CPU is split by process: the workerd that runs the Worker and its
 * Durable Objects, wrangler's front workerd (the dev port's proxy, and the relay of the Worker's
 * inspector), and wrangler's Node process (which receives and prints each request's log line). On
 * Cloudflare a Worker is billed its isolate's CPU only: the first part is the nearest to the bill.
 */
export function costTable(cost) {
  const floor = cost.rows.find((row) => row.id === "floor");
  const lines = [
    "| target | server CPU ms / request (best) | × floor | issue (first main) | goal | of which the Worker's workerd | wrangler's front workerd | wrangler's Node | requests/s | × floor's | issue (first main) | errors | runs (ms) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const row of cost.rows) {
    const ratio = row.server_cpu_ms_per_request / floor.server_cpu_ms_per_request;
    const goal = COST_GOALS[row.id];
    const verdict = goal ? `≤ ${goal}× ${ratio <= goal ? "(met)" : "(**not met**)"}` : "–";
    const issueRps = FIRST_MAIN.cost[row.id]?.rps_ratio;
    lines.push(
      `| ${row.label} | ${fmt(row.server_cpu_ms_per_request)} | ${fmt(ratio, 1)} | ${firstMain(row.id)} | ${verdict} | ${part(row, "worker_workerd_cpu_ms_per_request")} | ${part(row, "front_workerd_cpu_ms_per_request")} | ${part(row, "node_cpu_ms_per_request")} | ${row.rps} | ${fmt(row.rps / floor.rps)} | ${issueRps === undefined ? "–" : `${fmt(issueRps)}×`} | ${row.errors} | ${row.runs_cpu_ms.join(", ")} |`,
    );
  }
  return lines.join("\n");
}

/** How much of each route's figure is wrangler dev's own machinery rather than the Worker. */
export function devServerNote(cost) {
  const rows = cost.rows.filter((row) => row.node_cpu_ms_per_request !== undefined && row.node_cpu_ms_per_request !== null);
  if (rows.length === 0) return "";
  const floor = rows.find((row) => row.id === "floor");
  const parts = rows.map(
    (row) => `${row.id} ${fmt(devServerMs(row))} ms (${Math.round((devServerMs(row) / row.server_cpu_ms_per_request) * 100)} %)`,
  );
  const worker = floor
    ? rows
        .filter((row) => COST_GOALS[row.id])
        .map((row) => `${row.id} ${fmt(row.worker_workerd_cpu_ms_per_request / floor.worker_workerd_cpu_ms_per_request, 1)}×`)
    : [];
  return [
    `wrangler dev's own processes (its front workerd and its Node process), ms a request and share of the figure: ${parts.join("; ")}.`,
    "They pass each request on and relay and print each console.log line of the Worker; on Cloudflare the log goes to",
    "Workers Logs and the Worker is billed its isolate's CPU only.",
    worker.length > 0 ? `The Worker's workerd alone, as a multiple of the floor's: ${worker.join(", ")} (not the goals' measure).` : "",
  ]
    .filter(Boolean)
    .join("\n");
}
