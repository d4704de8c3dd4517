// The production release, step by step: what .github/workflows/deploy.yml runs, and what an operator
// runs by hand without GitHub (DEPLOYMENT.md). Needs CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
//
//   npm run release -- [--env production] [--tag <tag>] [--message <text>] [--url <base-url>]
//   npm run release -- --dry-run [--simulate-failure <step>]     prints the commands, runs none
//
// 1. bookmark   record the D1 Time Travel bookmark (the data's restore point) before anything changes
// 2. previous   the version serving now (the one a rollback returns to)
// 3. migrations apply the remote D1 migrations (expand/contract: the old version still works on them)
// 4. upload     `wrangler versions upload` the new version, tagged, with no traffic yet
// 5. stage      deploy it at 0 % beside the old one, so a version override can reach it; smoke it
// 6. 10 %       deploy it at 10 %; smoke it again
// 7. 100 %      deploy it at 100 %; smoke it again, now without the override
// then           tag the commit v<package.json version> the first time that version is released
// Any failure after step 5 began runs `wrangler rollback <previous>`. The job summary (or stdout)
// gives the version id, the bookmark, the smoke results, and the exact `d1 time-travel restore`.
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { releaseSummary, shellQuote } from "./lib/release-summary.js";
import { releaseVersion, tagRelease } from "./lib/release-version.js";
import { root, runTool } from "./lib/tool.js";

export const STEPS = [
  "bookmark",
  "previous",
  "migrations",
  "upload",
  "stage",
  "smoke-0",
  "deploy-10",
  "smoke-10",
  "deploy-100",
  "smoke-100",
];
const DATABASE = "DB"; // the D1 binding of wrangler.toml; wrangler resolves it per environment
const USAGE =
  "usage: node scripts/release.js [--env production] [--tag <tag>] [--message <text>] [--url <base-url>] [--dry-run [--simulate-failure <step>]]";

function usage(problem) {
  console.error(`release: ${problem}\n${USAGE}\nsteps: ${STEPS.join(", ")}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      env: { type: "string", default: "production" },
      tag: { type: "string" },
      message: { type: "string" },
      url: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "simulate-failure": { type: "string" },
    },
  }).values;
} catch (error) {
  usage(error.message);
}
const dryRun = args["dry-run"];
const simulateFailure = args["simulate-failure"];
if (simulateFailure && !dryRun) usage("--simulate-failure only goes with --dry-run");
if (simulateFailure && !STEPS.includes(simulateFailure)) usage(`unknown step ${simulateFailure}`);
const givenUrl = args.url || process.env.RELEASE_URL;
if (givenUrl && !/^https:\/\/[^/]+/.test(givenUrl)) usage("--url (or RELEASE_URL) must be an https:// base URL");
if (!dryRun && !(process.env.CLOUDFLARE_API_TOKEN && process.env.CLOUDFLARE_ACCOUNT_ID)) {
  usage("CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID must be set (see DEPLOYMENT.md, first-time setup)");
}

// package.json's version must be CHANGELOG.md's newest: a release never goes out under a version
// whose changes are not written down (CHANGELOG.md, "Versioning").
const { version: semver, problem: versionProblem } = releaseVersion(root);
if (versionProblem) usage(versionProblem);

const git = (...gitArgs) => spawnSync("git", gitArgs, { cwd: root, encoding: "utf8" }).stdout?.trim() || null;
const env = args.env;
const release = {
  env,
  semver,
  worker: workerName(env),
  // A version tag is short; the commit is the natural one. The message is the commit's subject.
  tag: (args.tag ?? git("rev-parse", "--short=12", "HEAD") ?? "manual").slice(0, 64),
  message: (args.message ?? git("log", "-1", "--format=%s") ?? "manual release").slice(0, 100),
  // --url, else RELEASE_URL (the deploy workflow's optional repository variable), else workers.dev.
  url: (args.url || process.env.RELEASE_URL || "").replace(/\/+$/, "") || null,
  dryRun,
  bookmark: null,
  previous: null,
  version: null,
  steps: [], // {name, command, status: "ok" | "failed", detail}
  smokes: [], // {name, outcome, output}
  trafficChanged: false, // a `versions deploy` ran: a failure now needs a rollback
  failure: null, // {step, message}
  rollback: null, // {status, command, detail}
  gitTag: null, // {name, created, detail}
};

/** The Worker's name in this environment: `name` under [env.<env>], else the top-level one. */
function workerName(environment) {
  let section = "";
  let top = null;
  let inEnv = null;
  for (const line of readFileSync(path.join(root, "wrangler.toml"), "utf8").split("\n")) {
    const header = line.match(/^\s*\[\[?([^\]]+)\]\]?\s*$/);
    if (header) section = header[1].trim();
    const name = line.match(/^\s*name\s*=\s*"([^"]+)"/);
    if (!name) continue;
    if (section === "") top ??= name[1];
    if (section === `env.${environment}`) inEnv ??= name[1];
  }
  return inEnv ?? top;
}

/** `$GITHUB_OUTPUT` lines, so later steps (and the run's page) have the values. */
function output(key, value) {
  if (process.env.GITHUB_OUTPUT && value) appendFileSync(process.env.GITHUB_OUTPUT, `${key}=${value}\n`);
}

class StepFailed extends Error {}

/** Prints the command with its values, then (unless a dry run) runs it. */
function command(bin, argv, { outputFile } = {}) {
  const printed = `${bin === "node" ? "node" : "npx wrangler"} ${argv.map(shellQuote).join(" ")}`;
  console.log(`$ ${printed}`);
  if (dryRun) return { printed, stdout: "", stderr: "", status: 0 };
  const extraEnv = { CI: "true", WRANGLER_SEND_METRICS: "false", ...(outputFile ? { WRANGLER_OUTPUT_FILE_PATH: outputFile } : {}) };
  const result =
    bin === "node"
      ? spawnSync(process.execPath, argv, { cwd: root, encoding: "utf8", env: { ...process.env, ...extraEnv } })
      : runTool("wrangler", argv, { env: extraEnv, timeout: 600_000 });
  if (result.error) throw new StepFailed(`could not run ${bin}: ${result.error.message}`);
  return { printed, stdout: result.stdout ?? "", stderr: result.stderr ?? "", status: result.status };
}

/** Runs one named step; a failure (real or simulated) stops the release. */
function step(name, body) {
  const entry = { name, command: null, status: "ok", detail: "" };
  release.steps.push(entry);
  try {
    const detail = body(entry);
    if (simulateFailure === name) throw new StepFailed(`simulated failure of ${name} (--simulate-failure)`);
    entry.detail = detail ?? "";
  } catch (error) {
    entry.status = "failed";
    entry.detail = error.message;
    release.failure = { step: name, message: error.message };
    throw error;
  }
}

function wrangler(entry, argv, options) {
  const result = command("wrangler", argv, options);
  entry.command = result.printed;
  if (!dryRun) process.stdout.write(options?.quiet ? "" : `${result.stdout}${result.stderr}`);
  if (result.status !== 0) {
    throw new StepFailed(`wrangler exited with ${result.status}: ${lastLines(`${result.stdout}\n${result.stderr}`)}`);
  }
  return result;
}

const lastLines = (text) => text.trim().split("\n").slice(-5).join(" / ");

function parseJson(text, what) {
  try {
    return JSON.parse(text.slice(text.indexOf("{")));
  } catch {
    throw new StepFailed(`${what}: wrangler did not print JSON: ${lastLines(text)}`);
  }
}

/** The new version's id from wrangler's output file (one JSON object a line). */
function uploadedVersion(outputFile) {
  const lines = readFileSync(outputFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const upload = lines.find((entry) => entry.type === "version-upload");
  if (!upload?.version_id) throw new StepFailed("versions upload wrote no version id");
  return upload.version_id;
}

/** https://<worker>.<account subdomain>.workers.dev, unless --url names the Worker's own domain. */
async function resolveUrl() {
  if (release.url) return;
  if (dryRun) {
    release.url = `https://${release.worker}.<account-subdomain>.workers.dev`;
    return;
  }
  const res = await fetch(`https://api.cloudflare.com/client/v4/accounts/${process.env.CLOUDFLARE_ACCOUNT_ID}/workers/subdomain`, {
    headers: { Authorization: `Bearer ${process.env.CLOUDFLARE_API_TOKEN}` },
    signal: AbortSignal.timeout(15_000),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body?.result?.subdomain) {
    throw new StepFailed(`could not read the account's workers.dev subdomain (HTTP ${res.status}); pass --url <base-url>`);
  }
  release.url = `https://${release.worker}.${body.result.subdomain}.workers.dev`;
}

function smoke(name, { override }) {
  step(name, (entry) => {
    const argv = [
      "scripts/smoke.js",
      release.url,
      "--expect-version",
      release.version,
      ...(override ? ["--override", release.worker] : []),
    ];
    const result = command("node", argv);
    entry.command = result.printed;
    const text = `${result.stdout}${result.stderr}`.trim();
    if (!dryRun) console.log(text);
    const failed = result.status !== 0 || simulateFailure === name;
    const outcome = failed ? "FAILED" : dryRun ? "not run (dry run)" : "passed";
    release.smokes.push({ name, outcome, output: dryRun ? `(dry run${failed ? ": simulated failure" : ""})` : text });
    if (result.status !== 0) throw new StepFailed(`smoke check failed: ${lastLines(text)}`);
  });
}

function deploy(name, specs) {
  step(name, (entry) => {
    wrangler(entry, ["versions", "deploy", ...specs, "--env", env, "--yes", "--message", `release ${release.tag}: ${name}`]);
    release.trafficChanged = true;
  });
}

async function run() {
  console.log(`release: ${release.worker} (${env}), version ${semver}, tag ${release.tag}${dryRun ? ", DRY RUN: nothing is run" : ""}`);
  await resolveUrl();
  output("url", release.url);
  step("bookmark", (entry) => {
    const { stdout } = wrangler(entry, ["d1", "time-travel", "info", DATABASE, "--env", env, "--json"], { quiet: true });
    release.bookmark = dryRun ? "<bookmark>" : parseJson(stdout, "time-travel info").bookmark;
    if (!release.bookmark) throw new StepFailed("time-travel info printed no bookmark");
    console.log(`release: D1 bookmark before this release: ${release.bookmark}`);
    output("bookmark", release.bookmark);
    return release.bookmark;
  });
  step("previous", (entry) => {
    const { stdout } = wrangler(entry, ["deployments", "status", "--env", env, "--json"], { quiet: true });
    const versions = dryRun
      ? [{ version_id: "<previous-version-id>", percentage: 100 }]
      : (parseJson(stdout, "deployments status").versions ?? []);
    release.previous = [...versions].sort((a, b) => b.percentage - a.percentage)[0]?.version_id;
    if (!release.previous) throw new StepFailed("no version is deployed yet: make the first deploy with `wrangler deploy` (DEPLOYMENT.md)");
    output("previous_version_id", release.previous);
    return release.previous;
  });
  step("migrations", (entry) => void wrangler(entry, ["d1", "migrations", "apply", DATABASE, "--remote", "--env", env]));
  step("upload", (entry) => {
    const dir = mkdtempSync(path.join(tmpdir(), "release-"));
    try {
      const outputFile = path.join(dir, "wrangler-output.json");
      wrangler(entry, ["versions", "upload", "--env", env, "--tag", release.tag, "--message", release.message], { outputFile });
      release.version = dryRun ? "<new-version-id>" : uploadedVersion(outputFile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    output("version_id", release.version);
    return release.version;
  });
  deploy("stage", [`${release.version}@0%`, `${release.previous}@100%`]);
  smoke("smoke-0", { override: true });
  deploy("deploy-10", [`${release.version}@10%`, `${release.previous}@90%`]);
  smoke("smoke-10", { override: true });
  deploy("deploy-100", [`${release.version}@100%`]);
  smoke("smoke-100", { override: false });
  release.gitTag = tagRelease(release, { root, dryRun });
  if (release.gitTag.created) output("git_tag", release.gitTag.name);
}

try {
  await run();
} catch (error) {
  if (!(error instanceof StepFailed)) throw error;
  release.failure ??= { step: "url", message: error.message };
  console.error(`release: FAILED at ${release.failure.step}: ${error.message}`);
  if (release.trafficChanged) {
    const argv = [
      "rollback",
      release.previous,
      "--env",
      env,
      "--yes",
      "--message",
      `release ${release.tag} failed at ${release.failure.step}`,
    ];
    const result = command("wrangler", argv);
    if (!dryRun) process.stdout.write(`${result.stdout}${result.stderr}`);
    release.rollback = { command: result.printed, ok: result.status === 0, detail: lastLines(`${result.stdout}\n${result.stderr}`) };
  }
} finally {
  const summary = releaseSummary(release);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, summary);
  console.log(`\n${summary}`);
  output("result", release.failure ? "failed" : "released");
}
process.exit(release.failure ? 1 : 0);
