// Exactness of a limiter on the peer Worker's `exact` scenario (50 requests in any 10 s):
// what it admits when 200 requests arrive at once, and when bursts straddle a window boundary.
// Each check uses a client key of its own, so it starts from an empty budget.
const LIMIT = 50;
const WINDOW_MS = 10_000;

async function hit(url, client) {
  const sent = Date.now();
  // Node's fetch opens as many sockets as there are requests in flight: the 200 are concurrent.
  const response = await fetch(url, { headers: { "X-Bench-Client": client } });
  await response.arrayBuffer();
  if (response.status !== 200 && response.status !== 429) throw new Error(`${url}: unexpected ${response.status}`);
  return { sent, admitted: response.status === 200 };
}

const burst = (url, client, n) => Promise.all(Array.from({ length: n }, () => hit(url, client)));
const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

/** The most admitted requests sent within any rolling window of WINDOW_MS. */
function mostInAnyWindow(results) {
  const times = results
    .filter((r) => r.admitted)
    .map((r) => r.sent)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= WINDOW_MS) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** 200 concurrent requests against a fresh budget of 50: how many got through. */
export async function concurrent(baseUrl, limiter, run) {
  const results = await burst(`${baseUrl}/${limiter}/exact`, `${run}-concurrent`, 200);
  const admitted = results.filter((r) => r.admitted).length;
  return { sent: results.length, admitted, refused: results.length - admitted, limit: LIMIT };
}

/**
 * One request at t=0 (it opens a fixed window, for limiters that have one), 50 at t=9.5 s just
 * before that window ends, 50 at t=10.5 s just after. An exact limiter admits 1 + 49 + 1: never
 * more than 50 within 10 s. A fixed window admits the second burst whole.
 */
export async function straddle(baseUrl, limiter, run) {
  const url = `${baseUrl}/${limiter}/exact`;
  const client = `${run}-straddle`;
  const start = Date.now();
  const opener = await burst(url, client, 1);
  await sleepUntil(start + WINDOW_MS - 500);
  const before = await burst(url, client, LIMIT);
  await sleepUntil(start + WINDOW_MS + 500);
  const after = await burst(url, client, LIMIT);
  const count = (results) => results.filter((r) => r.admitted).length;
  return {
    admitted_at_0s: count(opener),
    admitted_at_9_5s: count(before),
    admitted_at_10_5s: count(after),
    most_in_any_10s: mostInAnyWindow([...opener, ...before, ...after]),
    limit: LIMIT,
  };
}
