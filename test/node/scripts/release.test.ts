import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// The release script's dry run prints every command the real run would execute, in order, with
// its values; these tests read that sequence as an operator (or the deploy workflow) would.
const root = path.resolve(import.meta.dirname, "../../..");
const tmpDirs: string[] = [];
afterEach(() => {
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dryRun(...extra: string[]) {
  return dryRunIn(root, ...extra);
}

function dryRunIn(cwd: string, ...extra: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), "release-test-"));
  tmpDirs.push(dir);
  const summaryFile = path.join(dir, "summary.md");
  const outputFile = path.join(dir, "output.txt");
  const result = spawnSync(
    process.execPath,
    [
      "scripts/release.js",
      "--dry-run",
      "--tag",
      "abc123def456",
      "--message",
      "Add series sorting",
      "--url",
      "https://api.example.com",
      ...extra,
    ],
    {
      cwd,
      encoding: "utf8",
      // As on a GitHub runner, and with no Cloudflare credentials: a dry run must need none.
      env: { PATH: process.env.PATH, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile },
    },
  );
  const commands = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("$ "))
    .map((line) => line.slice(2));
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    commands,
    summary: read(summaryFile),
    outputs: read(outputFile),
  };
}

/** The index of the one command that starts with `prefix`; fails when there is not exactly one. */
function indexOf(commands: string[], prefix: string): number {
  const found = commands.flatMap((c, i) => (c.startsWith(prefix) ? [i] : []));
  expect(found, `exactly one command starting "${prefix}" in:\n${commands.join("\n")}`).toHaveLength(1);
  return found[0] as number;
}

const NEW = "'<new-version-id>";
const PREVIOUS = "'<previous-version-id>";
const SMOKE_NEW = "node scripts/smoke.js https://api.example.com --expect-version '<new-version-id>'";

describe("scripts/release.js --dry-run", { timeout: 30_000 }, () => {
  it("prints the whole release in order: bookmark, migrations, upload, then smoke before each promotion", () => {
    const run = dryRun();
    expect(run.status, run.stderr).toBe(0);
    // The git tag at the end depends on the repository's tags: its own tests below use a repository of their own.
    expect(run.commands.filter((c) => !c.startsWith("git "))).toEqual([
      "npx wrangler d1 time-travel info DB --env production --json",
      "npx wrangler deployments status --env production --json",
      "npx wrangler d1 migrations apply DB --remote --env production",
      "npx wrangler versions upload --env production --tag abc123def456 --message 'Add series sorting'",
      `npx wrangler versions deploy ${NEW}@0%' ${PREVIOUS}@100%' --env production --yes --message 'release abc123def456: stage'`,
      `${SMOKE_NEW} --override mamcrawler-api`,
      `npx wrangler versions deploy ${NEW}@10%' ${PREVIOUS}@90%' --env production --yes --message 'release abc123def456: deploy-10'`,
      `${SMOKE_NEW} --override mamcrawler-api`,
      `npx wrangler versions deploy ${NEW}@100%' --env production --yes --message 'release abc123def456: deploy-100'`,
      SMOKE_NEW,
    ]);
    expect(run.commands.some((c) => c.includes("rollback"))).toBe(false);
  });

  it("orders the steps as a gradual deploy needs them", () => {
    const { commands } = dryRun();
    const bookmark = indexOf(commands, "npx wrangler d1 time-travel info");
    const migrations = indexOf(commands, "npx wrangler d1 migrations apply");
    const upload = indexOf(commands, "npx wrangler versions upload");
    const at10 = indexOf(commands, `npx wrangler versions deploy ${NEW}@10%'`);
    const at100 = indexOf(commands, `npx wrangler versions deploy ${NEW}@100%'`);
    const smokes = commands.flatMap((c, i) => (c.startsWith("node scripts/smoke.js") ? [i] : []));
    expect(bookmark).toBeLessThan(migrations);
    expect(migrations).toBeLessThan(upload);
    // A smoke check of the new version between the upload and each promotion, and after the last.
    expect(smokes.some((i) => i > upload && i < at10)).toBe(true);
    expect(smokes.some((i) => i > at10 && i < at100)).toBe(true);
    expect(smokes.some((i) => i > at100)).toBe(true);
  });

  it("rolls back to the previous version when a smoke check fails, and promotes no further", () => {
    const run = dryRun("--simulate-failure", "smoke-10");
    expect(run.status).toBe(1);
    const at10 = indexOf(run.commands, `npx wrangler versions deploy ${NEW}@10%'`);
    const rollback = indexOf(run.commands, "npx wrangler rollback");
    expect(run.commands[rollback]).toBe(
      `npx wrangler rollback ${PREVIOUS}' --env production --yes --message 'release abc123def456 failed at smoke-10'`,
    );
    expect(rollback).toBe(run.commands.length - 1);
    expect(run.commands[rollback - 1]).toBe(`${SMOKE_NEW} --override mamcrawler-api`);
    expect(rollback).toBeGreaterThan(at10);
    expect(run.commands.some((c) => c.startsWith(`npx wrangler versions deploy ${NEW}@100%'`))).toBe(false);
  });

  it("rolls back when the first smoke check (at 0 %) fails", () => {
    const run = dryRun("--simulate-failure", "smoke-0");
    expect(run.status).toBe(1);
    expect(run.commands.at(-1)).toMatch(/^npx wrangler rollback '<previous-version-id>' /);
    expect(run.commands.some((c) => c.includes("@10%'"))).toBe(false);
  });

  it("moves no traffic and rolls nothing back when the migrations fail; the summary gives the restore command", () => {
    const run = dryRun("--simulate-failure", "migrations");
    expect(run.status).toBe(1);
    expect(run.commands.at(-1)).toBe("npx wrangler d1 migrations apply DB --remote --env production");
    expect(run.summary).toContain("FAILED at migrations, no traffic was moved");
    expect(run.summary).toContain("npx wrangler d1 time-travel restore DB --env production --bookmark='<bookmark>'");
  });

  it("writes the job summary: version id, bookmark, smoke results, what to do", () => {
    const run = dryRun("--simulate-failure", "smoke-100");
    expect(run.summary).toContain("FAILED at smoke-100, rolled back");
    expect(run.summary).toContain("| New version | `<new-version-id>` (tag `abc123def456`) |");
    expect(run.summary).toContain("| D1 bookmark before the migrations | `<bookmark>` |");
    expect(run.summary).toMatch(/\*\*smoke-0\*\*: not run \(dry run\)[\s\S]*\*\*smoke-100\*\*: FAILED/);
    expect(run.summary).toContain("| step | result | command / detail |\n|---|---|---|\n| bookmark | ok |");
    expect(run.summary).toContain("| rollback | ok | `npx wrangler rollback '<previous-version-id>' --env production --yes");
    expect(run.summary).toContain("### What to do\n\n- The code is back on `<previous-version-id>`.");
    expect(run.summary).toContain("--bookmark='<bookmark>'");
    expect(run.outputs).toContain("version_id=<new-version-id>\n");
    expect(run.outputs).toContain("bookmark=<bookmark>\n");
    expect(run.outputs).toContain("result=failed\n");
  });

  it("drills a failure at any step, each stopping the release there", () => {
    const steps = ["bookmark", "previous", "migrations", "upload", "stage", "smoke-0", "deploy-10", "smoke-10", "deploy-100", "smoke-100"];
    for (const step of steps) {
      const run = dryRun("--simulate-failure", step);
      expect(run.status, `${step}: ${run.stderr}`).toBe(1);
      expect(run.summary, step).toContain(`FAILED at ${step}`);
    }
  });

  it("refuses --simulate-failure outside a dry run, and an unknown step", () => {
    const real = spawnSync(process.execPath, ["scripts/release.js", "--simulate-failure", "smoke-10"], { cwd: root, encoding: "utf8" });
    expect(real.status).toBe(2);
    expect(real.stderr).toContain("--simulate-failure only goes with --dry-run");
    expect(dryRun("--simulate-failure", "nope").status).toBe(2);
  });
});

describe("scripts/release.js: the version and its tag", { timeout: 30_000 }, () => {
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const git = (cwd: string, ...args: string[]) => {
    const result = spawnSync("git", args, { cwd, encoding: "utf8", env: gitEnv });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.trim();
  };

  /** A repository holding the release script and this project's package.json, wrangler.toml and CHANGELOG.md. */
  function repository(edit: { version?: string } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "release-repo-"));
    tmpDirs.push(dir);
    cpSync(path.join(root, "scripts/release.js"), path.join(dir, "scripts/release.js"));
    cpSync(path.join(root, "scripts/lib"), path.join(dir, "scripts/lib"), { recursive: true });
    for (const file of ["wrangler.toml", "CHANGELOG.md"]) cpSync(path.join(root, file), path.join(dir, file));
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ ...pkg, version: edit.version ?? pkg.version }, null, 2));
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "first");
    return { dir, version: edit.version ?? (pkg.version as string) };
  }

  it("tags the released commit v<version> once the last smoke check passed", () => {
    const { dir, version } = repository();
    const run = dryRunIn(dir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.commands.at(-1)).toBe(`git tag -a v${version} -m 'v${version}: Add series sorting'`);
    expect(run.commands.at(-2)).toBe(SMOKE_NEW);
    expect(run.summary).toContain(`| Version | \`${version}\`; git tag \`v${version}\`: not created (dry run) |`);
  });

  it("tags nothing when the release fails", () => {
    const { dir } = repository();
    const run = dryRunIn(dir, "--simulate-failure", "smoke-100");
    expect(run.status).toBe(1);
    expect(run.commands.some((c) => c.startsWith("git "))).toBe(false);
  });

  it("does not move a version's tag: later commits are released untagged until the next version", () => {
    const { dir, version } = repository();
    git(dir, "tag", "-a", `v${version}`, "-m", "first release");
    const first = git(dir, "rev-parse", "HEAD");
    writeFileSync(path.join(dir, "later.txt"), "a fix\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "later");
    const run = dryRunIn(dir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.commands.some((c) => c.startsWith("git "))).toBe(false);
    expect(run.summary).toContain(`already tags ${first.slice(0, 12)}`);
    expect(git(dir, "rev-parse", `v${version}^{commit}`)).toBe(first);
  });

  it("names the release by its commit without --tag, and the Worker by its environment's name in wrangler.toml, else the top one", () => {
    const { dir } = repository();
    writeFileSync(
      path.join(dir, "wrangler.toml"),
      `${readFileSync(path.join(dir, "wrangler.toml"), "utf8")}\n[env.staging]\nname = "mamcrawler-api-staging"\n`,
    );
    git(dir, "commit", "-qam", "staging");
    const head = git(dir, "rev-parse", "--short=12", "HEAD");
    const release = (env: string) =>
      spawnSync(process.execPath, ["scripts/release.js", "--dry-run", "--env", env, "--url", "https://api.example.com"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: process.env.PATH },
      }).stdout;
    const staging = release("staging");
    expect(staging).toContain(`$ npx wrangler versions upload --env staging --tag ${head} --message staging\n`);
    expect(staging).toContain("--override mamcrawler-api-staging\n");
    // An environment without a section of its own is the top-level Worker.
    expect(release("preview")).toContain("--override mamcrawler-api\n");
  });

  it("refuses a version CHANGELOG.md has not released, before any command", () => {
    const { dir } = repository({ version: "99.0.0" });
    const run = dryRunIn(dir);
    expect(run.status).toBe(2);
    expect(run.commands).toEqual([]);
    expect(run.stderr).toContain("package.json's version 99.0.0 is not CHANGELOG.md's newest");
  });
});
