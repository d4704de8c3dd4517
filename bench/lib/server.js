// Serves one Worker with `wrangler dev` (local workerd), the same way for every target: its own
// port, its own state directory, its own log file. Each server runs in its own process group, so
// stopping it ends wrangler, workerd and esbuild together and nothing is left running.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { binDir, root } from "../../scripts/lib/tool.js";

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const running = new Set();

/** A port nobody listens on now: asked of the kernel, so parallel runs never collide. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `wrangler dev --config <config>` and resolves once `readyPath` answers 2xx.
 * `envFile` carries the variables (and the development secrets) of the run.
 */
export async function startWorker({ name, config, persistTo, envFile, logDir, readyPath = "/" }) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const logFile = path.join(logDir, `${name}.log`);
  const log = openSync(logFile, "w");
  const args = [
    "dev",
    "--config",
    path.resolve(root, config),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    ...(envFile ? ["--env-file", envFile] : []),
  ];
  const child = spawn(path.join(binDir, "wrangler"), args, {
    cwd: root,
    detached: true, // its own process group: see stopWorker
    stdio: ["ignore", log, log],
    env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  closeSync(log);
  const server = { name, child, url: `http://127.0.0.1:${port}`, inspectorPort, logFile, exited: false };
  child.on("exit", () => (server.exited = true));
  running.add(server);
  try {
    await waitReady(server, readyPath);
  } catch (error) {
    await stopWorker(server);
    throw error;
  }
  return server;
}

async function waitReady(server, readyPath) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exited) break;
    try {
      const response = await fetch(server.url + readyPath, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const tail = readFileSync(server.logFile, "utf8").split("\n").slice(-20).join("\n");
  throw new Error(`${server.name} did not become ready on ${server.url}${readyPath}:\n${tail}`);
}

/** Ends the server's whole process group: TERM, then KILL if it lingers. */
export async function stopWorker(server) {
  if (!running.delete(server) || server.exited) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  signalGroup(server, "SIGTERM");
  const timer = setTimeout(() => signalGroup(server, "SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  // workerd may outlive wrangler by a moment; the group is ours alone, so make sure.
  signalGroup(server, "SIGKILL");
}

function signalGroup(server, signal) {
  try {
    process.kill(-server.child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Stops whatever is still running (an error or Ctrl-C mid-run). */
export async function stopAll() {
  await Promise.all([...running].map(stopWorker));
}
