#!/usr/bin/env node
// `npm run mutants`: mutation testing of the critical code (README, "Testing").
//
// Each mutant in scripts/mutants-list.js is one plausible bug: the exact text of one line of a
// file and its wrong replacement. For each, a copy of the tree under the system temp folder gets
// the mutation (the working tree is never touched), the mutant's related tests run, and if they
// all pass the whole suite runs. A mutant is KILLED when some test fails (or the run times out),
// SURVIVED when every test passes, STALE when its original text is not (or not exactly once) in
// the file: the code moved on and the list must follow. The run fails on any STALE mutant and
// when the score (killed / mutants not judged equivalent) is under the threshold.
//
//   npm run mutants                      every mutant; survivors re-run against the whole suite
//   npm run mutants -- --only rl-,cors-  mutants whose id starts with one of these prefixes
//   npm run mutants -- --quick           related tests only (no whole-suite re-run of survivors)
//   npm run mutants -- --check           only check that every mutant still applies (no tests)
//   npm run mutants -- --threshold 95    the minimum score in percent (default 90)
//   npm run mutants -- --keep            keep the temporary copy (its path is printed)
//
// Generated mutants (scripts/mutants-generated.js, StrykerJS's operators over the folders in scope):
//   npm run mutants -- --generated                     every mutant of every folder in scope
//   npm run mutants -- --changed [--base main]         the files this branch changed (before landing)
//   npm run mutants -- --generated --folders src/scheduler --sample 0.2 --seed 27
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { collapse, mutantKey } from "./lib/mutant-keys.js";
import equivalents from "./mutants-equivalent.js";
import mutants from "./mutants-list.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.includes("--generated") || args.includes("--changed")) {
  await import("./mutants-generated.js"); // it exits with the run's verdict
}
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};

const threshold = Number(option("--threshold", "90"));
const only = option("--only", "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const quick = flag("--quick");
const checkOnly = flag("--check");
const keep = flag("--keep");
/** A mutant whose tests run longer than this is counted killed (it hangs or loops). */
const RELATED_TIMEOUT_MS = 10 * 60_000;
const SUITE_TIMEOUT_MS = 30 * 60_000;

const selected = only.length === 0 ? mutants : mutants.filter((m) => only.some((prefix) => m.id.startsWith(prefix)));
if (selected.length === 0) {
  console.error(`mutants: no mutant id starts with ${only.join(", ")}`);
  process.exit(2);
}

// The list itself: unique ids, every field present, related test files that exist.
const ids = new Set();
for (const m of mutants) {
  const problems = [];
  if (ids.has(m.id)) problems.push("duplicate id");
  ids.add(m.id);
  for (const key of ["id", "file", "from", "to", "tests", "bug"]) if (m[key] === undefined) problems.push(`no ${key}`);
  if (m.from === m.to) problems.push("replacement equals the original");
  if (typeof m.from === "string" && m.from.includes("\n")) problems.push("not a one-line mutation");
  for (const test of m.tests ?? []) if (!existsSync(join(root, test))) problems.push(`no test file ${test}`);
  if (problems.length > 0) {
    console.error(`mutants: ${m.id ?? "(no id)"} in scripts/mutants-list.js: ${problems.join("; ")}`);
    process.exit(2);
  }
}

/** How many times `needle` occurs in `text`. */
function occurrences(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/** Where a mutant applies: undefined when it applies exactly once, else why it is stale. */
function staleness(m) {
  const path = join(root, m.file);
  if (!existsSync(path)) return `${m.file} does not exist`;
  const found = occurrences(readFileSync(path, "utf8"), m.from);
  if (found === 0) return `original text not found in ${m.file}`;
  if (found > 1) return `original text found ${found} times in ${m.file} (make it unique)`;
  return undefined;
}

/**
 * A copy of the working tree (uncommitted changes included) without .git, node_modules and local
 * state; node_modules is a folder of symlinks to the real packages, so nothing is installed and
 * the copy's own caches (node_modules/.vite) stay in the copy.
 */
function makeCopy() {
  const dir = mkdtempSync(join(tmpdir(), "mutants-"));
  const skip = new Set(["node_modules", ".git", ".wrangler", "coverage", "dist"]);
  for (const entry of readdirSync(root)) {
    if (skip.has(entry)) continue;
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  mkdirSync(join(dir, "node_modules"));
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (entry === ".vite" || entry === ".cache") continue;
    symlinkSync(join(root, "node_modules", entry), join(dir, "node_modules", entry));
  }
  return dir;
}

/** Runs vitest in the copy: whether every test passed, the first failures, and how long it took. */
function vitest(dir, files, timeoutMs) {
  const report = join(dir, ".mutant-report.json");
  rmSync(report, { force: true });
  const started = Date.now();
  const run = spawnSync(
    join(dir, "node_modules", ".bin", "vitest"),
    ["run", "--bail=1", "--reporter=json", `--outputFile=${report}`, ...files],
    {
      cwd: dir,
      encoding: "utf8",
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, PATH: `${join(dir, "node_modules", ".bin")}:${process.env.PATH}`, CI: "1" },
    },
  );
  const seconds = (Date.now() - started) / 1000;
  if (run.error?.code === "ETIMEDOUT" || run.signal === "SIGKILL")
    return { passed: false, timedOut: true, seconds, failures: ["(timed out)"] };
  // Stopped from outside (Ctrl-C reaches vitest too, or the run was killed): not a result.
  if (run.signal) return { interrupted: true, passed: false, timedOut: false, seconds, failures: [] };
  const failures = [];
  if (existsSync(report)) {
    const result = JSON.parse(readFileSync(report, "utf8"));
    for (const file of result.testResults ?? []) {
      const name = relative(dir, file.name);
      const failed = (file.assertionResults ?? []).filter((t) => t.status === "failed");
      for (const t of failed) {
        const why = String(t.failureMessages?.[0] ?? "")
          .split("\n")[0]
          .slice(0, 160);
        failures.push(`${name} > ${t.fullName}${why ? `: ${why}` : ""}`);
      }
      if (failed.length === 0 && file.status === "failed") failures.push(`${name} (${(file.message ?? "failed to load").split("\n")[0]})`);
    }
  }
  if (run.status !== 0 && failures.length === 0)
    failures.push(`vitest exited ${run.status}: ${(run.stderr || run.stdout).trim().split("\n").slice(-3).join(" | ")}`);
  return { passed: run.status === 0, timedOut: false, seconds, failures };
}

const stale = selected.map((m) => [m, staleness(m)]).filter(([, why]) => why);
for (const [m, why] of stale) console.log(`STALE      ${m.id}: ${why}`);
if (checkOnly) {
  console.log(
    `mutants: ${selected.length - stale.length} of ${selected.length} apply${stale.length ? "; fix the STALE ones in scripts/mutants-list.js" : ""}`,
  );
  // The reviewed equivalent generated mutants: the text each replaces is still in its file and its key is that mutant's.
  let staleEquivalents = 0;
  const keys = new Set();
  for (const e of equivalents) {
    const path = join(root, e.file ?? "");
    const problems = [];
    for (const field of ["key", "file", "mutator", "original", "replacement", "why"])
      if (typeof e[field] !== "string") problems.push(`no ${field}`);
    if (problems.length === 0 && e.key !== mutantKey(e.file, e.mutator, e.original, e.replacement))
      problems.push("key does not match the mutant");
    if (problems.length === 0 && keys.has(e.key)) problems.push("listed twice");
    if (problems.length === 0 && (!existsSync(path) || !collapse(readFileSync(path, "utf8")).includes(collapse(e.original))))
      problems.push(`its original text is no longer in ${e.file}`);
    keys.add(e.key);
    if (problems.length) {
      staleEquivalents++;
      console.log(`STALE      equivalent ${e.key ?? "(no key)"} in scripts/mutants-equivalent.js: ${problems.join("; ")}`);
    }
  }
  console.log(`mutants: ${equivalents.length - staleEquivalents} of ${equivalents.length} reviewed equivalent generated mutants apply`);
  process.exit(stale.length || staleEquivalents ? 1 : 0);
}

const dir = makeCopy();
console.log(`mutants: ${selected.length} mutants in ${dir}${quick ? " (related tests only)" : ""}`);
const results = [];
const startedAll = Date.now();
try {
  for (const m of selected) {
    if (stale.some(([s]) => s === m)) {
      results.push({ m, outcome: "STALE" });
      continue;
    }
    const target = join(dir, m.file);
    const original = readFileSync(target, "utf8");
    writeFileSync(
      target,
      original.replace(m.from, () => m.to),
    );
    let outcome;
    let detail;
    let seconds = 0;
    let interrupted = false;
    try {
      const related = vitest(dir, m.tests, RELATED_TIMEOUT_MS);
      seconds += related.seconds;
      if (related.interrupted) {
        interrupted = true;
      } else if (!related.passed) {
        outcome = "KILLED";
        detail = related.failures[0];
      } else if (quick) {
        outcome = "SURVIVED";
        detail = "related tests pass (whole suite not run: --quick)";
      } else {
        const suite = vitest(dir, [], SUITE_TIMEOUT_MS);
        seconds += suite.seconds;
        interrupted = !!suite.interrupted;
        outcome = suite.passed ? "SURVIVED" : "KILLED";
        detail = suite.passed ? "the whole suite passes" : `${suite.failures[0]} (outside the related tests: add it to them)`;
      }
    } finally {
      writeFileSync(target, original);
    }
    if (interrupted) {
      console.log(`mutants: interrupted during ${m.id}; stopping`);
      process.exitCode = 130;
      break;
    }
    const equivalent = m.equivalent && outcome === "SURVIVED";
    results.push({ m, outcome: equivalent ? "EQUIVALENT" : outcome });
    const label = (equivalent ? "EQUIVALENT" : outcome).padEnd(11);
    console.log(`${label}${m.id} (${seconds.toFixed(0)} s) ${m.file}: ${m.bug}`);
    console.log(`           ${equivalent ? `judged equivalent: ${m.equivalent}` : detail}`);
  }
} finally {
  if (keep) console.log(`mutants: kept the copy at ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

const count = (outcome) => results.filter((r) => r.outcome === outcome).length;
const killed = count("KILLED");
const survived = count("SURVIVED");
const scored = killed + survived;
const score = scored === 0 ? 100 : (100 * killed) / scored;
const minutes = ((Date.now() - startedAll) / 60_000).toFixed(1);
console.log("");
console.log(
  `mutants: ${killed} killed, ${survived} survived, ${count("EQUIVALENT")} equivalent, ${count("STALE")} stale, of ${results.length} (${minutes} min)`,
);
console.log(`mutants: score ${score.toFixed(1)} % (killed / (killed + survived)); threshold ${threshold} %`);
for (const r of results.filter((r) => r.outcome === "SURVIVED")) console.log(`  survived: ${r.m.id}: ${r.m.bug}`);
if (count("STALE") > 0) console.log("mutants: FAILED: stale mutants; update scripts/mutants-list.js to the current code");
else if (score < threshold) console.log("mutants: FAILED: score under the threshold; add tests that kill the survivors");
process.exit(process.exitCode === 130 ? 130 : count("STALE") > 0 || score < threshold ? 1 : 0);
