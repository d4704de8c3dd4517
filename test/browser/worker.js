// Runs this Worker under `wrangler dev` for the browser test: a throwaway local D1 (migrated the
// way `npm run dev` migrates it), its own free ports, the development secrets, and the outside
// services pointed at the fakes.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { binDir, root, runTool } from "../../scripts/lib/tool.js";

export const SECRETS = {
  API_KEY: "dev-only-api-key-for-browser-test-000000",
  JWT_SECRET: "dev-only-jwt-secret-for-browser-test-0000",
  PASSWORD_SALT: "dev-only-password-pepper-for-browser-test",
};

/** A port nobody listens on right now (the machine is shared: never a fixed one). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, deadlineMs, child) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer ${url} within ${deadlineMs} ms`);
}

/**
 * Starts the Worker; `vars` are extra bindings (the fakes' URLs and credentials).
 * @returns {Promise<{base: string, stop: () => Promise<void>, log: () => string}>}
 */
export async function startWorker(vars = {}) {
  const state = mkdtempSync(path.join(tmpdir(), "dashboard-browser-"));
  const migrate = runTool("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { env: { CI: "true" } });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);

  const [port, inspectorPort] = [await freePort(), await freePort()];
  const all = { ...SECRETS, ENVIRONMENT: "development", ...vars };
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    state,
    "--show-interactive-dev-session=false",
  ];
  for (const [key, value] of Object.entries(all)) args.push("--var", `${key}:${value}`);
  const wrangler = path.join(binDir, "wrangler");
  const child = spawn(wrangler, args, {
    cwd: root,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/health/live`, 90_000, child);
  } catch (error) {
    stopProcess(child);
    throw new Error(`${error.message}\n--- wrangler output ---\n${output.slice(-4000)}`);
  }
  return {
    base,
    log: () => output,
    stop: async () => {
      stopProcess(child);
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Ends wrangler and the workerd it started (its own process group, nothing else). */
function stopProcess(child) {
  if (child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
}
