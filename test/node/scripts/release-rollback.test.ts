import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// A real (not dry) run of scripts/release.js against a stand-in for wrangler that answers as
// wrangler 4 does (`deployments status --json`: the versions serving and their percentages; the
// upload's output file: one JSON object a line) and notes every call. The smoke check fails, so
// the release must roll back: to the version that served the traffic before it began.
const root = path.resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FAKE_WRANGLER = `#!/usr/bin/env node
const { appendFileSync } = require("node:fs");
const args = process.argv.slice(2);
appendFileSync(process.env.FAKE_WRANGLER_CALLS, JSON.stringify(args) + "\\n");
const has = (...words) => words.every((w) => args.includes(w));
if (has("time-travel", "info")) console.log(JSON.stringify({ bookmark: "00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683" }));
else if (has("deployments", "status")) console.log(process.env.FAKE_DEPLOYMENTS);
else if (has("versions", "upload")) appendFileSync(process.env.WRANGLER_OUTPUT_FILE_PATH, JSON.stringify({ type: "version-upload", version_id: "new-version" }) + "\\n");
`;

/** Runs a release in a copy of the scripts whose wrangler is the stand-in; `deployments` is what it says is serving. */
function release(deployments: unknown) {
  const dir = mkdtempSync(path.join(tmpdir(), "release-real-"));
  dirs.push(dir);
  cpSync(path.join(root, "scripts/release.js"), path.join(dir, "scripts/release.js"));
  cpSync(path.join(root, "scripts/lib"), path.join(dir, "scripts/lib"), { recursive: true });
  for (const file of ["wrangler.toml", "CHANGELOG.md", "package.json"]) cpSync(path.join(root, file), path.join(dir, file));
  // The smoke check finds the new version broken.
  writeFileSync(path.join(dir, "scripts/smoke.js"), 'console.log("smoke: GET /health/ready answered 503"); process.exit(1);\n');
  mkdirSync(path.join(dir, "node_modules/.bin"), { recursive: true });
  writeFileSync(path.join(dir, "node_modules/.bin/wrangler"), FAKE_WRANGLER);
  chmodSync(path.join(dir, "node_modules/.bin/wrangler"), 0o755);
  writeFileSync(path.join(dir, "node_modules/package.json"), '{"type":"commonjs"}');
  const calls = path.join(dir, "calls.jsonl");
  const output = path.join(dir, "output.txt");
  const run = spawnSync(
    process.execPath,
    ["scripts/release.js", "--tag", "abc123def456", "--message", "m", "--url", "https://api.example.com"],
    {
      cwd: dir,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        CLOUDFLARE_API_TOKEN: "token-for-the-stand-in",
        CLOUDFLARE_ACCOUNT_ID: "account-for-the-stand-in",
        FAKE_WRANGLER_CALLS: calls,
        FAKE_DEPLOYMENTS: JSON.stringify(deployments),
        GITHUB_OUTPUT: output,
      },
    },
  );
  const lines = (file: string) => {
    try {
      return readFileSync(file, "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  return { run, calls: lines(calls).map((line) => JSON.parse(line) as string[]), outputs: lines(output) };
}

describe("scripts/release.js: which version a failed release returns to", { timeout: 30_000 }, () => {
  it("rolls back to the version serving the most traffic, wherever wrangler lists it", () => {
    // A gradual deploy left half-way: wrangler lists the newer, smaller share first.
    const { run, calls, outputs } = release({
      versions: [
        { version_id: "canary-version", percentage: 10 },
        { version_id: "stable-version", percentage: 90 },
      ],
    });
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(outputs).toContain("previous_version_id=stable-version");
    // Staged with the stable version keeping all traffic, then the smoke check failed: back to it.
    expect(calls.find((args) => args[0] === "versions" && args[1] === "deploy")?.slice(2, 4)).toEqual([
      "new-version@0%",
      "stable-version@100%",
    ]);
    expect(calls.at(-1)?.slice(0, 2)).toEqual(["rollback", "stable-version"]);
    expect(outputs).toContain("result=failed");
  });

  it("refuses to release when nothing is deployed yet, before any traffic moves", () => {
    const { run, calls } = release({ versions: [] });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no version is deployed yet");
    expect(calls.some((args) => args[0] === "versions" || args[0] === "rollback")).toBe(false);
  });
});
