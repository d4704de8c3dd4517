// Post-deploy smoke check: `npm run smoke -- https://mamcrawler-api.<account>.workers.dev`.
// Passes when /health/ready answers ready and, if API_KEY is in the environment, one
// authenticated read succeeds. Exits non-zero with the reason otherwise, so a pipeline can
// roll back.
const base = process.argv[2]?.replace(/\/+$/, "");
if (!base) {
  console.error("usage: npm run smoke -- <base-url>");
  process.exit(2);
}

async function get(path, headers = {}) {
  const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text.slice(0, 300);
  }
  return { status: res.status, body };
}

function fail(why, detail) {
  console.error(`smoke: FAIL ${why}`);
  if (detail !== undefined) console.error(JSON.stringify(detail, null, 2));
  process.exit(1);
}

try {
  const ready = await get("/health/ready");
  if (ready.status !== 200 || ready.body?.status !== "ready") fail(`/health/ready answered ${ready.status}`, ready.body);
  console.log(`smoke: /health/ready ready (version ${ready.body.version})`);

  if (process.env.API_KEY) {
    const read = await get("/api/system/health", { "X-API-Key": process.env.API_KEY });
    if (read.status !== 200 || read.body?.success !== true) fail(`authenticated read answered ${read.status}`, read.body);
    console.log(`smoke: authenticated read ok (${read.body.data.status})`);
  } else {
    console.log("smoke: API_KEY not set in the environment; skipped the authenticated read");
  }
  console.log("smoke: PASS");
} catch (error) {
  fail(`could not reach ${base}: ${error.message}`);
}
