// Runs the project's own tools (wrangler, drizzle-kit) from the scripts. Their shebang is
// `env node`, so node_modules/.bin goes first on PATH: they run on the project's Node 22 even
// when a script is started by another node.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const binDir = path.join(root, "node_modules", ".bin");

/** spawnSync of `node_modules/.bin/<name>` in the project root, output captured as text. */
export function runTool(name, args, { env = {}, ...options } = {}) {
  return spawnSync(path.join(binDir, name), args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    env: { ...process.env, ...env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` },
  });
}
