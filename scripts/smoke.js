// Post-deploy smoke check:
//   npm run smoke -- <base-url> [--expect-version <id>] [--override <worker-name>] [--retry-for <seconds>]
// Passes when /health/ready answers ready and, if API_KEY is in the environment, one authenticated
// read succeeds. With --expect-version, the Worker version that answered (its `worker_version.id`,
// from the version_metadata binding) must be that id: during a gradual deploy the old version may
// answer instead. --override sends `Cloudflare-Workers-Version-Overrides: <worker-name>="<id>"` so
// the expected version answers even at 0 % or 10 % of traffic. A new deployment takes a few seconds
// to reach every location, so failed attempts are retried for --retry-for seconds (default 0, or 30
// with --expect-version). Exits non-zero with the reason otherwise, so a pipeline can roll back.
import { parseArgs } from "node:util";

const USAGE = "usage: npm run smoke -- <base-url> [--expect-version <id>] [--override <worker-name>] [--retry-for <seconds>]";

let options;
try {
  options = parseArgs({
    allowPositionals: true,
    options: {
      "expect-version": { type: "string" },
      override: { type: "string" },
      "retry-for": { type: "string" },
    },
  });
} catch (error) {
  console.error(`smoke: ${error.message}\n${USAGE}`);
  process.exit(2);
}
const base = options.positionals[0]?.replace(/\/+$/, "");
const expectVersion = options.values["expect-version"];
const overrideWorker = options.values.override;
const retryFor = Number(options.values["retry-for"] ?? (expectVersion ? 30 : 0));
if (!base || !/^https?:\/\//.test(base) || !Number.isFinite(retryFor) || retryFor < 0 || (overrideWorker && !expectVersion)) {
  console.error(overrideWorker && !expectVersion ? "smoke: --override needs --expect-version" : USAGE);
  process.exit(2);
}

const headers = overrideWorker ? { "Cloudflare-Workers-Version-Overrides": `${overrideWorker}="${expectVersion}"` } : {};

async function get(path, extra = {}) {
  const res = await fetch(`${base}${path}`, { headers: { ...headers, ...extra }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text.slice(0, 300);
  }
  return { status: res.status, body };
}

class SmokeFailure extends Error {
  constructor(why, detail) {
    super(why);
    this.detail = detail;
  }
}

/** One attempt: throws a SmokeFailure saying what is wrong, or returns the lines to print. */
async function attempt() {
  const lines = [];
  let ready;
  try {
    ready = await get("/health/ready");
  } catch (error) {
    throw new SmokeFailure(`could not reach ${base}: ${error.message}`);
  }
  const answered = ready.body?.worker_version ?? {};
  if (expectVersion && answered.id !== expectVersion) {
    throw new SmokeFailure(`version ${answered.id ?? "(none reported)"} answered, expected ${expectVersion}`);
  }
  if (ready.status !== 200 || ready.body?.status !== "ready") {
    throw new SmokeFailure(`/health/ready answered ${ready.status}`, ready.body);
  }
  lines.push(
    `smoke: /health/ready ready (version ${ready.body.version}, worker version ${answered.id ?? "unknown"}${answered.tag ? ` tag ${answered.tag}` : ""})`,
  );

  if (process.env.API_KEY) {
    const read = await get("/api/system/health", { "X-API-Key": process.env.API_KEY });
    if (read.status !== 200 || read.body?.success !== true) throw new SmokeFailure(`authenticated read answered ${read.status}`, read.body);
    lines.push(`smoke: authenticated read ok (${read.body.data.status})`);
  } else {
    lines.push("smoke: API_KEY not set in the environment; skipped the authenticated read");
  }
  return lines;
}

const deadline = Date.now() + retryFor * 1000;
for (let tries = 1; ; tries++) {
  try {
    for (const line of await attempt()) console.log(line);
    console.log(`smoke: PASS${expectVersion ? ` (version ${expectVersion})` : ""}`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    if (Date.now() + 3_000 > deadline) {
      console.error(`smoke: FAIL ${error.message}${tries > 1 ? ` (after ${tries} attempts)` : ""}`);
      if (error.detail !== undefined) console.error(JSON.stringify(error.detail, null, 2));
      process.exit(1);
    }
    console.log(`smoke: attempt ${tries}: ${error.message}; retrying in 3 s`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}
