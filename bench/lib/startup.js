// `npm run bench -- startup`: what a deploy uploads and what a cold start costs, for the API and
// for the floor (a bare Hono Worker, bench/floor/) as the baseline.
// - Size: `wrangler deploy --dry-run --outdir` (no account), as wrangler reports it ("Total Upload",
//   raw and gzip; the upload limit is on the gzip size) and the main module's own bytes.
// - Cold start: `wrangler check startup` on that same bundle. It starts the Worker in local workerd
//   with the profiler on and writes the CPU profile of the startup phase (compiling and evaluating
//   the module's global scope: the work Cloudflare limits at deploy). The number here is the
//   profile's busy time (samples not idle; wrangler prints it as "Active"), the best and the median
//   of several runs. This machine's CPU is not Cloudflare's: compare Workers, not absolute values.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { root, runTool } from "../../scripts/lib/tool.js";
import { FIRST_MAIN } from "./first-main.js";

export const STARTUP_TARGETS = [
  { id: "api", label: "the API (wrangler.toml)", config: "wrangler.toml" },
  { id: "floor", label: "floor: bare Hono `ok`", config: "bench/floor/wrangler.toml" },
];

function wrangler(args) {
  const result = runTool("wrangler", args, { env: { CI: "true", WRANGLER_SEND_METRICS: "false" } });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${output.slice(-3000)}`);
  return output;
}

/**
 * The bundle a deploy would upload: wrangler's own figures and the main module's bytes; `bundle`
 * is the upload itself (the form `wrangler check startup --worker` reads).
 */
export function bundleSize(target, outdir) {
  const bundle = path.join(outdir, "worker.bundle");
  const output = wrangler(["deploy", "--dry-run", "--config", target.config, "--outdir", outdir, "--outfile", bundle]);
  const upload = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  if (!upload) throw new Error(`no "Total Upload" line in wrangler's output:\n${output.slice(-2000)}`);
  const main = readFileSync(path.join(outdir, "index.js"));
  return {
    bundle,
    size: {
      upload_kib: Number(upload[1]),
      upload_gzip_kib: Number(upload[2]),
      main_module_bytes: main.length,
      main_module_gzip_bytes: gzipSync(main).length,
    },
  };
}

/** The commit measured, marked when the tree has changes of its own. */
export function gitCommit() {
  const git = (...args) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout.trim();
  return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " (with local changes)" : ""}`;
}

/** Busy milliseconds of a V8 CPU profile: every sample that is not "(idle)". */
export function busyMs(profile) {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
  let micros = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) micros += profile.timeDeltas[i] ?? 0;
  });
  return Math.round(micros / 100) / 10;
}

/** `runs` startup profiles of a built bundle; the best and the median busy time. */
export function startupTime(target, bundle, outdir, runs) {
  const times = [];
  for (let run = 1; run <= runs; run++) {
    const outfile = path.join(outdir, `startup-${run}.cpuprofile`);
    wrangler(["check", "startup", "--config", target.config, "--worker", bundle, "--outfile", outfile]);
    times.push(busyMs(JSON.parse(readFileSync(outfile, "utf8"))));
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { runs: times, best_ms: sorted[0], median_ms: sorted[Math.floor(sorted.length / 2)] };
}

const kib = (bytes) => (bytes / 1024).toFixed(1);

/** One row per target: sizes and startup, against the floor. */
export function startupTable(rows) {
  const lines = [
    "| Worker | upload KiB | upload gzip KiB | main module KiB (gzip) | startup busy ms, best | median | issue (first main) best / median | runs |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const row of rows) {
    const first = FIRST_MAIN.startup[row.id];
    lines.push(
      `| ${row.label} | ${row.upload_kib} | ${row.upload_gzip_kib} | ${kib(row.main_module_bytes)} (${kib(row.main_module_gzip_bytes)}) | ${row.best_ms} | ${row.median_ms} | ${first ? `${first.best_ms} / ${first.median_ms}` : "–"} | ${row.runs.join(", ")} |`,
    );
  }
  return lines.join("\n");
}
