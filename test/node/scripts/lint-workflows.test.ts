import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `npm run lint:workflows` on the repository's workflows, and on broken ones written here.
const root = path.resolve(import.meta.dirname, "../../..");
const dir = mkdtempSync(path.join(tmpdir(), "lint-workflows-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";

function lint(...files: string[]) {
  const result = spawnSync(process.execPath, ["scripts/lint-workflows.js", ...files], { cwd: root, encoding: "utf8" });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function workflow(name: string, steps: string, runsOn = "ubuntu-24.04") {
  const file = path.join(dir, name);
  writeFileSync(file, `name: t\non: push\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ${runsOn}\n    steps:\n${steps}`);
  return file;
}

// One linter process for all the broken files below (each start loads a 9 MB WebAssembly module).
const broken = {
  good: workflow("good.yml", `      - uses: ${CHECKOUT}\n      - run: echo hi\n`),
  badRef: workflow("bad-ref.yml", `      - uses: ${CHECKOUT}\n      - run: echo "\${{ steps.nope.outputs.id }}"\n`),
  inject: workflow("inject.yml", `      - run: echo "\${{ github.event.head_commit.message }}"\n`),
  label: workflow("label.yml", "      - run: echo hi\n", "ubuntu-99.04"),
  tag: workflow("tag.yml", "      - uses: actions/checkout@v7\n      - uses: cloudflare/wrangler-action@main\n"),
  notWorkflow: (() => {
    const file = path.join(dir, "broken.yml");
    writeFileSync(file, "name: t\non: push\njobs:\n  a:\n    steps: [\n");
    return file;
  })(),
};
let all: { status: number | null; out: string };
/** The lines the linter printed about one file. */
const about = (file: string) => all.out.split("\n").filter((line) => line.includes(`${path.basename(file)}:`));

describe("npm run lint:workflows", { timeout: 60_000 }, () => {
  beforeAll(() => {
    all = lint(...Object.values(broken));
  }, 60_000);

  it("passes the repository's ci.yml and deploy.yml", () => {
    const run = lint();
    expect(run.out).toContain("ci.yml, .github/workflows/deploy.yml ok");
    expect(run.status).toBe(0);
  });

  it("fails when any file has a problem, and finds none in a correct workflow", () => {
    expect(all.status).toBe(1);
    expect(about(broken.good)).toEqual([]);
  });

  it("fails on a reference to a step that does not exist", () => {
    expect(about(broken.badRef).join("\n")).toMatch(/bad-ref\.yml:\d+:\d+: property "nope" is not defined/);
  });

  it("fails on untrusted input spliced into a script", () => {
    expect(about(broken.inject).join("\n")).toContain("potentially untrusted");
  });

  it("fails on an unknown runner label and on YAML that is not a workflow", () => {
    expect(about(broken.label).join("\n")).toContain('label "ubuntu-99.04" is unknown');
    expect(about(broken.notWorkflow).length).toBeGreaterThan(0);
  });

  it("fails on an action pinned to a tag or a branch instead of a commit sha", () => {
    const lines = about(broken.tag).join("\n");
    expect(lines).toContain('"actions/checkout@v7" is not pinned');
    expect(lines).toContain('"cloudflare/wrangler-action@main" is not pinned');
  });
});

describe("the deploy workflow", () => {
  const deploy = readFileSync(path.join(root, ".github/workflows/deploy.yml"), "utf8");

  it("never runs two releases at once, and never cancels one halfway", () => {
    expect(deploy).toMatch(/concurrency:\n\s+group: deploy-production\n\s+cancel-in-progress: false/);
  });

  it("may only read the repository, and releases through wrangler-action with the two repository secrets", () => {
    expect(deploy).toMatch(/^permissions:\n\s+contents: read\n\n/m);
    expect(deploy).toContain("uses: cloudflare/wrangler-action@ebbaa1584979971c8614a24965b4405ff95890e0 # v4.0.0");
    expect(deploy).toContain("apiToken: ${{ secrets.CLOUDFLARE_API_TOKEN }}");
    expect(deploy).toContain("accountId: ${{ secrets.CLOUDFLARE_ACCOUNT_ID }}");
    expect(deploy).toContain("postCommands: node scripts/release.js --env production");
  });
});
