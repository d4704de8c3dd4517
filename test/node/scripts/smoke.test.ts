import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// `npm run smoke` against a stand-in Worker on loopback that answers /health/ready as the real one
// does (src/routes/health.ts), as one version or another.
const root = path.resolve(import.meta.dirname, "../../..");
const NEW = "5a9cbb50-4f68-4b4e-9d6c-6d1e7b2f0a11";
const OLD = "0c6f1f7e-2b8e-4f47-a2a1-3d5b8c9e7f00";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Serves /health/ready as `answering(request)` decides; returns the base URL and the requests seen. */
async function fakeWorker(answering: (req: IncomingMessage) => { id: string; ready?: boolean }) {
  const seen: IncomingMessage[] = [];
  server = createServer((req, res) => {
    seen.push(req);
    const { id, ready = true } = answering(req);
    res.writeHead(ready ? 200 : 503, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: ready ? "ready" : "not_ready", version: "1.0.0", worker_version: { id, tag: "abc" }, checks: {} }));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

function smoke(...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/smoke.js", ...args], { cwd: root, env: { PATH: process.env.PATH } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (status) => resolve({ status, out }));
  });
}

describe("npm run smoke -- <url> --expect-version <id>", { timeout: 30_000 }, () => {
  it("passes when the expected version answers ready", async () => {
    const { base } = await fakeWorker(() => ({ id: NEW }));
    const run = await smoke(base, "--expect-version", NEW);
    expect(run.out).toContain(`smoke: PASS (version ${NEW})`);
    expect(run.status).toBe(0);
  });

  it("fails, naming both, when another version answers", async () => {
    const { base } = await fakeWorker(() => ({ id: OLD }));
    const run = await smoke(base, "--expect-version", NEW, "--retry-for", "0");
    expect(run.status).toBe(1);
    expect(run.out).toContain(`version ${OLD} answered, expected ${NEW}`);
  });

  it("fails when the right version is not ready", async () => {
    const { base } = await fakeWorker(() => ({ id: NEW, ready: false }));
    const run = await smoke(base, "--expect-version", NEW, "--retry-for", "0");
    expect(run.status).toBe(1);
    expect(run.out).toContain("/health/ready answered 503");
  });

  it("with --override, asks Cloudflare for that version by header (as a 0 % or 10 % version is reached)", async () => {
    const { base, seen } = await fakeWorker((req) => ({
      id: req.headers["cloudflare-workers-version-overrides"] === `mamcrawler-api="${NEW}"` ? NEW : OLD,
    }));
    const run = await smoke(base, "--expect-version", NEW, "--override", "mamcrawler-api");
    expect(run.status).toBe(0);
    expect(seen.every((req) => req.headers["cloudflare-workers-version-overrides"] === `mamcrawler-api="${NEW}"`)).toBe(true);
  });

  it("retries while the new deployment spreads, then passes", async () => {
    let calls = 0;
    const { base } = await fakeWorker(() => ({ id: ++calls === 1 ? OLD : NEW }));
    const run = await smoke(base, "--expect-version", NEW, "--retry-for", "10");
    expect(run.status).toBe(0);
    expect(run.out).toContain(`attempt 1: version ${OLD} answered`);
  });

  it("refuses a call without a URL, or --override without --expect-version", async () => {
    expect((await smoke()).status).toBe(2);
    expect((await smoke("http://127.0.0.1:9", "--override", "mamcrawler-api")).status).toBe(2);
  });
});
