// What generated mutation runs mutate (issue 27's scope) and which test files each runs.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";

/** The folders in scope and, for scripts/, the files (the release and the migration rules). */
export const SCOPE = {
  "src/integrations": null,
  "src/services": null,
  "src/scheduler": null,
  "src/middleware": null,
  "src/rate-limit": null,
  scripts: [
    "scripts/release.js",
    "scripts/lib/release-summary.js",
    "scripts/lib/release-version.js",
    "scripts/check-migrations.js",
    "scripts/lib/migration-rules.js",
  ],
};

const isSource = (file) => /\.(ts|js)$/.test(file) && !file.endsWith(".d.ts");

function walk(root, dir) {
  const out = [];
  for (const entry of readdirSync(join(root, dir))) {
    const path = `${dir}/${entry}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...walk(root, path));
    else if (isSource(path)) out.push(path);
  }
  return out.sort();
}

/** The source files of one folder in scope, relative to the root. */
export function filesOf(root, folder) {
  return SCOPE[folder] ?? walk(root, folder);
}

/** The folder in scope a file belongs to, or undefined. */
export function folderOf(file) {
  for (const folder of Object.keys(SCOPE)) {
    if (SCOPE[folder] ? SCOPE[folder].includes(file) : file.startsWith(`${folder}/`) && isSource(file)) return folder;
  }
  return undefined;
}

/** Files changed since `base` (committed on this branch, staged, unstaged or new), in scope. */
export function changedFiles(root, base) {
  const git = (...args) => {
    const run = spawnSync("git", args, { cwd: root, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.trim()}`);
    return run.stdout.split("\n").filter(Boolean);
  };
  const [mergeBase] = git("merge-base", base, "HEAD");
  const files = new Set([...git("diff", "--name-only", mergeBase), ...git("ls-files", "--others", "--exclude-standard")]);
  return [...files].filter((f) => existsSync(join(root, f)) && folderOf(f)).sort();
}

/**
 * The test files that can see a mutant in `files`: those that import one of them (by path), those
 * in the mirrored folder of test/, and those named after one of them anywhere in test/. Which of
 * these covers which mutant is then measured by Stryker (coverage per test).
 */
export function testsFor(root, files) {
  const tests = walk(root, "test").filter(
    (t) => /\.test\.(ts|js)$/.test(t) && !t.startsWith("test/browser/") && !t.startsWith("test/upstreams/"),
  );
  const texts = new Map(tests.map((t) => [t, readFileSync(join(root, t), "utf8")]));
  const chosen = new Set();
  const sources = walk(root, "src").map((f) => [f, readFileSync(join(root, f), "utf8")]);
  for (const file of files) {
    const module = file.replace(/\.(ts|js)$/, "");
    const mirror = dirname(file).replace(/^src\//, "test/");
    // The file's name and, inside a folder of its area (src/services/queue/), the area's name; and
    // the names of the source files that import it (a service's route test catches its mutants).
    const names = [basename(module), ...(dirname(file).split("/").length > 2 ? [basename(dirname(file))] : [])];
    for (const [importer, text] of sources) {
      const path = relative(dirname(importer), module);
      if (importer !== file && text.includes(`"${path.startsWith(".") ? path : `./${path}`}"`))
        names.push(basename(importer).replace(/\.(ts|js)$/, ""));
    }
    for (const test of tests) {
      const text = texts.get(test);
      const imports = text.includes(`${module}"`) || text.includes(`${module}.js"`);
      const mirrored = file.startsWith("src/") && dirname(test) === mirror;
      // A script (scripts/) runs in Node: only Node tests can run it (test/services/release-title.test.ts is not scripts/release.js's).
      const named =
        (file.startsWith("src/") || test.startsWith("test/node/")) &&
        names.some((name) => basename(test).startsWith(`${name}.`) || basename(test).startsWith(`${name}-`));
      if (imports || mirrored || named) chosen.add(test);
    }
  }
  return [...chosen].sort();
}
