// Rolls back the last applied D1 migration: runs drizzle/rollback/<name>.sql and removes <name>
// from d1_migrations, as one file execution, so `wrangler d1 migrations apply` re-applies it later.
//
//   npm run db:rollback                                  local database (.wrangler/state)
//   npm run db:rollback -- --remote --env production     asks before touching the remote database
//   npm run db:rollback -- --remote --env production --yes
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { root, runTool } from "./lib/tool.js";

const rollbackDir = path.join(root, "drizzle", "rollback");
const BINDING = "DB";
const MIGRATIONS_TABLE = "d1_migrations"; // wrangler's default; wrangler.toml does not change it

const USAGE = "usage: node scripts/db-rollback.js [--local | --remote] [--env <name>] [--yes]";

function fail(message) {
  console.error(`db-rollback: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { remote: false, env: undefined, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--local") opts.remote = false;
    else if (arg === "--remote") opts.remote = true;
    else if (arg === "--yes" || arg === "-y") opts.yes = true;
    else if (arg === "--env" || arg === "-e") {
      opts.env = argv[++i];
      if (!opts.env) fail(`--env needs a name\n${USAGE}`);
    } else if (arg.startsWith("--env=")) opts.env = arg.slice("--env=".length);
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${arg}\n${USAGE}`);
  }
  return opts;
}

function wrangler(args) {
  const result = runTool("wrangler", args);
  if (result.error) fail(`could not run wrangler: ${result.error.message}`);
  return result;
}

// Name of the newest row in d1_migrations, or null when nothing (not even the table) exists.
function lastApplied(target) {
  const sql = `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id DESC LIMIT 1`;
  const result = wrangler(["d1", "execute", BINDING, ...target, "--json", "--command", sql]);
  let parsed;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    fail(`wrangler did not answer with JSON:\n${result.stdout}${result.stderr}`);
  }
  if (!Array.isArray(parsed)) {
    const text = parsed?.error?.text ?? JSON.stringify(parsed);
    if (text.includes(`no such table: ${MIGRATIONS_TABLE}`)) return null;
    fail(`reading ${MIGRATIONS_TABLE} failed: ${text}`);
  }
  return parsed[0]?.results?.[0]?.name ?? null;
}

async function confirm(question) {
  if (!process.stdin.isTTY) fail("refusing to touch the remote database without a terminal; pass --yes to confirm.");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

const opts = parseArgs(process.argv.slice(2));
const target = [opts.remote ? "--remote" : "--local", ...(opts.env ? ["--env", opts.env] : [])];
const where = `${opts.remote ? "remote" : "local"} database ${BINDING}${opts.env ? ` (env ${opts.env})` : ""}`;

const name = lastApplied(target);
if (name === null) {
  console.log(`db-rollback: no migration is applied to the ${where}; nothing to roll back.`);
  process.exit(0);
}
// The name goes into SQL and a path: accept only what wrangler itself records.
if (!/^[\w.-]+\.sql$/.test(name)) fail(`unexpected migration name in ${MIGRATIONS_TABLE}: ${JSON.stringify(name)}`);
const rollbackFile = path.join(rollbackDir, name);
if (!existsSync(rollbackFile)) fail(`${name} is applied to the ${where}, but drizzle/rollback/${name} does not exist.`);

if (opts.remote && !opts.yes) {
  const ok = await confirm(`Roll back ${name} on the ${where}? It runs drizzle/rollback/${name} (data in what it drops is lost).`);
  if (!ok) {
    console.log("db-rollback: cancelled.");
    process.exit(1);
  }
}

// One file, one execution: the schema change and the bookkeeping row go (or stay) together.
const tmp = mkdtempSync(path.join(tmpdir(), "db-rollback-"));
let result;
try {
  const batch = path.join(tmp, `rollback-${name}`);
  const rollbackSql = readFileSync(rollbackFile, "utf8").trimEnd();
  writeFileSync(batch, `${rollbackSql}\n--> statement-breakpoint\nDELETE FROM ${MIGRATIONS_TABLE} WHERE name = '${name}';\n`);
  console.log(`db-rollback: rolling back ${name} on the ${where} (drizzle/rollback/${name})`);
  // --yes: the question, if any, was asked above.
  result = wrangler(["d1", "execute", BINDING, ...target, "--yes", "--json", "--file", batch]);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (result.status !== 0) {
  // Locally a failing file changes nothing (one transaction); remotely, check d1_migrations first.
  fail(`wrangler failed (exit ${result.status}), ${name} not rolled back:\n${result.stdout}${result.stderr}`.trimEnd());
}

const now = lastApplied(target);
console.log(
  `db-rollback: rolled back ${name}; the ${where} is now at ${now ?? "no migration"}. ` +
    `Re-apply with \`npm run db:migrate:${opts.remote ? "remote" : "local"}\`.`,
);
