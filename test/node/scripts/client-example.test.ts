import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// README "A typed client" shows a caller's project: the packages to install, list-books.ts and its
// tsconfig.json. This builds that project outside the repository from the README's own blocks
// (with client/ copied in, and the packages the README names linked from this project's
// node_modules, as `npm install` would put them) and compiles it as the README says, with `npx tsc`.
const root = path.resolve(import.meta.dirname, "../../..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");
const project = mkdtempSync(path.join(tmpdir(), "client-example-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** The README's section "A typed client", up to the next heading. */
function section(): string {
  const start = readme.indexOf("### A typed client");
  expect(start, "README has a section ### A typed client").toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The fenced block of `language` that follows the line naming `file` (or the first, without one). */
function block(text: string, language: string, file?: string): string {
  const from = file ? text.indexOf(`\`${file}\``) : 0;
  expect(from, `README names ${file}`).toBeGreaterThan(-1);
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(text.slice(from));
  expect(match, `a \`\`\`${language} block after ${file ?? "the start"}`).not.toBeNull();
  return match![1] as string;
}

/** The packages the README's `npm install` lines name: the project's own name for each. */
function installed(text: string): string[] {
  return block(text, "sh")
    .split("\n")
    .filter((line) => line.startsWith("npm install"))
    .flatMap((line) => line.split(/\s+/).slice(2))
    .filter((word) => !word.startsWith("-"));
}

/** Where this project keeps each package a caller installs (Node's types under an alias: tsconfig.json says why). */
const LOCAL: Record<string, string> = { "@types/node": "@node-types/node" };

/** Builds the project afresh (`edit` changes list-books.ts first) and runs `npx tsc` in it. */
function compile(edit = (source: string) => source) {
  const text = section();
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project);
  writeFileSync(path.join(project, "list-books.ts"), edit(block(text, "ts", "list-books.ts")));
  writeFileSync(path.join(project, "tsconfig.json"), block(text, "json", "tsconfig.json"));
  cpSync(path.join(root, "client"), path.join(project, "client"), { recursive: true });
  for (const name of installed(text)) {
    const target = path.join(project, "node_modules", name);
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(path.join(root, "node_modules", LOCAL[name] ?? name), target, "dir");
  }
  return spawnSync(path.join(root, "node_modules", ".bin", "tsc"), [], { cwd: project, encoding: "utf8", timeout: 60_000 });
}

describe("README's typed-client example", { timeout: 90_000 }, () => {
  it("names the client's dependency, TypeScript and Node's types", () => {
    expect(installed(section()).sort()).toEqual(["@types/node", "openapi-fetch", "typescript"]);
  });

  it("compiles as a caller would build it: npx tsc with the README's tsconfig.json", () => {
    const result = compile();
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.status).toBe(0);
  });

  it("would not compile with a mistake the README says the compiler catches (the check is not vacuous)", () => {
    expect(block(section(), "ts", "list-books.ts")).toContain('status: "active"');
    const result = compile((source) => source.replace('status: "active"', 'status: "actve"'));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("list-books.ts");
  });
});
