// Fails (exit 1) when src/db/schema/ and the migrations in drizzle/ disagree, when a migration
// and its reverse in drizzle/rollback/ are not paired, or when a migration makes a contract change
// (drops or renames a table or column, adds NOT NULL without a default) without a `-- contract:`
// line saying why, or changes no schema without a `-- data-only:` first line saying it changes rows
// only (scripts/lib/migration-rules.js). Runs before `npm test` and in CI, so a schema
// change cannot ship without its migration, nor a migration that breaks the running version.
//
// How: drizzle-kit generate runs against a throwaway copy of drizzle/; if it writes anything, the
// schema has changes no migration holds.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dataOnlyProblems, expandContractProblems } from "./lib/migration-rules.js";
import { root, runTool } from "./lib/tool.js";

const migrationsDir = path.join(root, "drizzle");
const rollbackDir = path.join(migrationsDir, "rollback");
const FIX = "Run `npm run db:generate` (and write drizzle/rollback/<same name>.sql for a new migration).";

const problems = [];

const sqlFiles = (dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".sql"))
        .sort()
    : [];

// Throws if the tool could not run at all.
function drizzleKit(args) {
  // No TTY: a rename prompt fails instead of waiting forever.
  const result = runTool("drizzle-kit", args, { timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

// Every file, with its contents, so a rewritten file counts as a change too.
function snapshotDir(dir, prefix = "") {
  const files = new Map();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = path.posix.join(prefix, entry.name);
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      for (const [k, v] of snapshotDir(full, rel)) files.set(k, v);
    } else {
      files.set(rel, readFileSync(full, "utf8"));
    }
  }
  return files;
}

// 1. Migrations and rollbacks come in pairs; the journal lists exactly the .sql files wrangler applies.
const migrations = sqlFiles(migrationsDir);
const rollbacks = sqlFiles(rollbackDir);
for (const name of migrations) {
  if (!rollbacks.includes(name)) problems.push(`drizzle/${name} has no rollback: write drizzle/rollback/${name}.`);
}
for (const name of rollbacks) {
  if (!migrations.includes(name)) problems.push(`drizzle/rollback/${name} has no migration drizzle/${name}.`);
}
const journalPath = path.join(migrationsDir, "meta", "_journal.json");
if (migrations.length > 0 && !existsSync(journalPath)) {
  problems.push("drizzle/meta/_journal.json is missing: drizzle/ was not written by drizzle-kit.");
} else if (existsSync(journalPath)) {
  const journaled = JSON.parse(readFileSync(journalPath, "utf8")).entries.map((e) => `${e.tag}.sql`);
  for (const name of migrations) {
    if (!journaled.includes(name)) problems.push(`drizzle/${name} is not in drizzle/meta/_journal.json.`);
  }
  for (const name of journaled) {
    if (!migrations.includes(name)) problems.push(`drizzle/meta/_journal.json lists ${name}, which is missing.`);
  }
}

// 2. Expand/contract: the previous Worker version keeps working on the migrated schema.
problems.push(...expandContractProblems(migrationsDir));
// 2b. A migration changes the schema, or says in its first line that it changes rows only.
problems.push(...dataOnlyProblems(migrationsDir));

// 3. The schema matches the migrations.
const tmp = mkdtempSync(path.join(tmpdir(), "check-migrations-"));
try {
  const copy = path.join(tmp, "drizzle");
  if (existsSync(migrationsDir)) cpSync(migrationsDir, copy, { recursive: true });
  const before = existsSync(copy) ? snapshotDir(copy) : new Map();
  // drizzle-kit 0.31 prefixes --out with "./", so it must be relative to the project root.
  const out = path.relative(root, copy);

  const check = drizzleKit(["check", "--dialect", "sqlite", "--out", out]);
  if (migrations.length > 0 && (check.status !== 0 || !check.output.includes("Everything's fine"))) {
    problems.push(`drizzle-kit check rejects drizzle/:\n${check.output}`);
  }

  const gen = drizzleKit(["generate", "--dialect", "sqlite", "--schema", "./src/db/schema/index.ts", "--out", out]);
  const after = existsSync(copy) ? snapshotDir(copy) : new Map();
  const changed = [...after.keys()].filter((f) => before.get(f) !== after.get(f));
  if (changed.length > 0) {
    problems.push(`src/db/schema/ has changes that no migration in drizzle/ holds (drizzle-kit would write ${changed.join(", ")}).`);
  } else if (gen.output.includes("Interactive prompts require a TTY")) {
    problems.push(
      "src/db/schema/ has changes that no migration in drizzle/ holds (drizzle-kit needs to ask whether something was renamed).",
    );
  } else if (gen.status !== 0 || !gen.output.includes("No schema changes")) {
    // drizzle-kit can print an error and still exit 0, so only its own "no changes" line counts.
    problems.push(`drizzle-kit generate did not confirm the schema is unchanged:\n${gen.output}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error("check-migrations: FAILED");
  for (const p of problems) console.error(`  - ${p}`);
  if (problems.some((p) => !p.includes("contract change") && !p.includes("data-only"))) console.error(FIX);
  process.exit(1);
}
console.log(
  `check-migrations: src/db/schema/ and drizzle/ agree (${migrations.length} migration${migrations.length === 1 ? "" : "s"}, each with a rollback, none contracting unannounced)`,
);
