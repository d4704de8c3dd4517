import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// npm run db:seed into a local state directory of its own (--persist-to), as the benchmark seeds. Each
// slice is a wrangler start, so the library is small: two slices of up to 100 books.
const root = path.resolve(import.meta.dirname, "../../..");
const state = mkdtempSync(path.join(tmpdir(), "seed-library-test-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [path.join(root, script), ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });

describe("scripts/seed-library.js", { timeout: 240_000 }, () => {
  it("says how far it is after each slice, then seeds exactly the books it counted", () => {
    const seed = run("scripts/seed-library.js", ["--count", "150", "--persist-to", state]);
    expect(seed.status, seed.stderr).toBe(0);
    const progress = seed.stdout.split("\n").filter((line) => / of 150 books /.test(line));
    expect(progress.map((line) => line.replace(/, [\d.]+ s$/, ""))).toEqual([
      "seed-library: 100 of 150 books (66 %)",
      "seed-library: 150 of 150 books (100 %)",
    ]);
    const count = spawnSync(
      path.join(root, "node_modules/.bin/wrangler"),
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        state,
        "--json",
        "--command",
        "SELECT count(*) AS n FROM books WHERE import_source = 'seed'",
      ],
      { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "true" } },
    );
    expect(count.status, count.stderr).toBe(0);
    expect(JSON.parse(count.stdout)[0].results[0].n).toBe(150);
  });
});
