// `npm run mutants -- --generated` and `-- --changed`: mutants nobody chose (issue 27, README
// "Testing"). StrykerJS generates them from the source with its own operators (equality and
// boundary swaps, conditions forced, statements, arguments and blocks removed, arithmetic and
// logical operators swapped, string and regex literals changed, optional chaining dropped, ...)
// and runs them through its vitest runner, inside workerd like the suite: every mutant is compiled
// in once (mutation switching) and one vitest process runs only the tests that cover each mutant.
// One Stryker run per folder in scope; its test files are the ones scripts/lib/mutant-scope.js
// relates to the folder's files. A reviewed list of equivalent mutants is in
// scripts/mutants-equivalent.js, keyed by text, not by line.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EQUIVALENT, NOT_SAMPLED } from "./lib/mutant-checker.js";
import { describe, inSample, mutantKey, originalText, wilson } from "./lib/mutant-keys.js";
import { sampleTargets } from "./lib/mutant-sample.js";
import { changedFiles, filesOf, folderOf, SCOPE, testsFor } from "./lib/mutant-scope.js";
import equivalents from "./mutants-equivalent.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined && !args[i + 1].startsWith("--") ? args[i + 1] : fallback;
};

const threshold = Number(option("--threshold", "85"));
const rate = Number(option("--sample", "1"));
const seed = option("--seed", "27");
const folders = option("--folders", "")
  .split(",")
  .map((s) => s.trim().replace(/\/$/, ""))
  .filter(Boolean);
const changed = args.includes("--changed");
const base = option("--base", "main");
const keep = args.includes("--keep");
const withStatic = args.includes("--static");

if (!(rate > 0 && rate <= 1)) {
  console.error("mutants: --sample is the share of mutants to run, over 0 and at most 1 (e.g. 0.1)");
  process.exit(2);
}
for (const folder of folders)
  if (!(folder in SCOPE)) {
    console.error(`mutants: ${folder} is not in scope (${Object.keys(SCOPE).join(", ")})`);
    process.exit(2);
  }

/** The files to mutate, per folder in scope. */
const groups = new Map();
if (changed) {
  for (const file of changedFiles(root, base)) {
    const folder = folderOf(file);
    if (folders.length === 0 || folders.includes(folder)) groups.set(folder, [...(groups.get(folder) ?? []), file]);
  }
  if (groups.size === 0) {
    console.log(`mutants: no file in scope changed since ${base}`);
    process.exit(0);
  }
} else {
  for (const folder of folders.length ? folders : Object.keys(SCOPE)) groups.set(folder, filesOf(root, folder));
}

const work = mkdtempSync(join(tmpdir(), "mutants-generated-"));
const equivalentKeys = new Map(equivalents.map((e) => [e.key, e.why]));
const rows = [];
const survivors = [];
const started = Date.now();

try {
  for (const [folder, files] of groups) {
    const folderStarted = Date.now();
    const sample = rate < 1 ? await sampleTargets(root, files, rate, seed) : { generated: undefined, mutate: files };
    const sampledFiles = [...new Set(sample.mutate.map((target) => target.replace(/:\d+-\d+$/, "")))];
    const tests = testsFor(root, sampledFiles);
    const report = join(work, `${folder.replaceAll("/", "-")}.json`);
    const config = join(work, `${folder.replaceAll("/", "-")}.config.json`);
    // Scripts run as child processes: their coverage is not measured, so every test runs each mutant.
    const perTest = folder !== "scripts";
    writeFileSync(
      config,
      JSON.stringify(
        {
          testRunner: "vitest",
          vitest: { configFile: "vitest.mutants.config.ts", related: false },
          plugins: ["@stryker-mutator/vitest-runner", join(root, "scripts/lib/mutant-checker.js")],
          checkers: ["mutant-sample"],
          mutate: sample.mutate,
          testFiles: tests,
          coverageAnalysis: perTest ? "perTest" : "off",
          // Code run when a module loads (tables, constants): each such mutant reloads workerd and
          // reruns every test file, minutes apiece on this machine; `--static` runs them too.
          // Without coverage Stryker cannot tell them apart (and refuses the option): scripts run all.
          ignoreStatic: perTest && !withStatic,
          concurrency: 1,
          // TypeScript 7 has no JavaScript API for Stryker to rewrite tsconfig.json with; the tests do not need it rewritten.
          tsconfigFile: "no-tsconfig-rewrite.json",
          timeoutMS: 30_000,
          // A surviving mutant runs every test that covers it (no failure to stop at); under the shared
          // machine's load that took more than Stryker's 1.5 times the first run's time, and was scored
          // "timed out", i.e. detected (middleware, seed 28: 12 of 35; the one run by hand survived).
          timeoutFactor: 4,
          // The first run of a folder's tests takes minutes on the shared machine (Stryker gives it 5 by default).
          dryRunTimeoutMinutes: 30,
          reporters: ["json", "progress-append-only"],
          jsonReporter: { fileName: report },
          tempDirName: join(work, "stryker"),
          cleanTempDir: "always",
          logLevel: "warn",
        },
        null,
        1,
      ),
    );
    console.log(
      `mutants: ${folder}: ${rate < 1 ? `${sample.generated} mutants, a sample of ${rate} (seed ${seed}) in ${sampledFiles.length} of ${files.length} files` : `${files.length} files`}, ${tests.length} test files`,
    );
    const run = spawnSync(join(root, "node_modules", ".bin", "stryker"), ["run", config], {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        MUTANTS_SAMPLE_RATE: String(rate),
        MUTANTS_SEED: seed,
        MUTANTS_ROOT: root,
        MUTANTS_COVERAGE: perTest ? "perTest" : "off",
        CI: "1",
      },
    });
    if (run.signal) {
      console.log(`mutants: stopped (${run.signal})`);
      process.exit(130);
    }
    if (!existsSync(report)) {
      console.error(`mutants: ${folder}: Stryker wrote no report (exit ${run.status})`);
      process.exitCode = 1;
      continue;
    }
    const row = summarise(folder, JSON.parse(readFileSync(report, "utf8")));
    if (sample.generated !== undefined) row.generated = sample.generated;
    row.minutes = (Date.now() - folderStarted) / 60_000;
    rows.push(row);
  }
} finally {
  if (keep) console.log(`mutants: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/** Counts of one folder's report; survivors are collected for the listing below. */
function summarise(folder, result) {
  const row = { folder, generated: 0, sampled: 0, killed: 0, timedOut: 0, survived: 0, equivalent: 0, statics: 0, errors: 0 };
  for (const [file, { source, mutants }] of Object.entries(result.files)) {
    for (const m of mutants) {
      row.generated++;
      const original = originalText(source, m.location, 1);
      const key = mutantKey(file, m.mutatorName, original, m.replacement ?? "");
      if (!inSample(key, rate, seed) || m.statusReason === NOT_SAMPLED) continue;
      row.sampled++;
      if (m.statusReason === EQUIVALENT || (equivalentKeys.has(key) && ["Survived", "NoCoverage"].includes(m.status))) row.equivalent++;
      else if (m.status === "Ignored") row.statics++;
      else if (m.status === "Killed") row.killed++;
      else if (m.status === "Timeout") row.timedOut++;
      else if (m.status === "Survived" || m.status === "NoCoverage") {
        row.survived++;
        survivors.push(
          `${file}:${m.location.start.line} ${key} ${m.mutatorName}${m.status === "NoCoverage" ? " (no test reaches it)" : ""}: ${describe(original, m.replacement ?? "")}`,
        );
      } else row.errors++;
    }
  }
  return row;
}

const pad = (value, width) => String(value).padStart(width);
console.log("");
if (survivors.length) {
  console.log(
    "survivors (file:line key kind: original -> mutant); kill each with a test, or review it into scripts/mutants-equivalent.js:",
  );
  for (const line of survivors) console.log(`  ${line}`);
  console.log("");
}
console.log(
  `${"folder".padEnd(18)}${pad("generated", 10)}${pad("run", 6)}${pad("killed", 8)}${pad("timeout", 8)}${pad("survived", 9)}${pad("equiv", 7)}${pad("static", 7)}${pad("error", 6)}${pad("score", 8)}  95 % interval   minutes`,
);
let failed = false;
for (const r of rows) {
  const caught = r.killed + r.timedOut;
  const scored = caught + r.survived;
  const score = scored === 0 ? 100 : (100 * caught) / scored;
  const [low, high] = wilson(caught, scored);
  if (score < threshold) failed = true;
  console.log(
    `${r.folder.padEnd(18)}${pad(r.generated, 10)}${pad(r.sampled, 6)}${pad(r.killed, 8)}${pad(r.timedOut, 8)}${pad(r.survived, 9)}${pad(r.equivalent, 7)}${pad(r.statics, 7)}${pad(r.errors, 6)}${pad(`${score.toFixed(1)} %`, 8)}  ${rate < 1 ? `${low.toFixed(0)}-${high.toFixed(0)} %`.padEnd(13) : "(all)".padEnd(13)}${pad(r.minutes.toFixed(1), 9)}`,
  );
}
console.log(
  `mutants: ${((Date.now() - started) / 60_000).toFixed(1)} min; score = (killed + timed out) / (killed + timed out + survived); threshold ${threshold} % per folder`,
);
if (failed) console.log("mutants: FAILED: a folder scores under the threshold; kill its survivors with tests");
process.exit(failed || process.exitCode ? 1 : 0);
