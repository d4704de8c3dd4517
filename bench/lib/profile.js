// `npm run bench -- profile`: CPU profiles of the hot routes inside workerd, taken through the
// dev server's inspector (Chrome DevTools protocol) while autocannon drives one route at a time.
// Writes one .cpuprofile per route (open in Chrome DevTools or VS Code) and prints the functions
// that took the most of the Worker's busy time. The profiler itself slows the Worker: compare
// shares within a profile, and take costs from `npm run bench -- cost`.
import autocannon from "autocannon";

/** The Worker's own inspector target (wrangler dev lists it at /json). */
async function inspectorUrl(port) {
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
      const target = targets.find((t) => t.webSocketDebuggerUrl);
      if (target) return target.webSocketDebuggerUrl;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no inspector target on port ${port}`);
}

function session(url) {
  // The inspector proxy accepts only a local Origin (as DevTools sends); undici takes headers here.
  const socket = new WebSocket(url, { headers: { Origin: "http://localhost" } });
  let id = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message));
      else resolve(message.result);
    }
  });
  const opened = new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  return {
    opened,
    send(method, params = {}) {
      const message = { id: ++id, method, params };
      return new Promise((resolve, reject) => {
        pending.set(message.id, { resolve, reject });
        socket.send(JSON.stringify(message));
      });
    },
    close: () => socket.close(),
  };
}

const load = (options) => new Promise((resolve, reject) => autocannon(options, (e, r) => (e ? reject(e) : resolve(r))));

/** Profiles `target` on `server` for `seconds` of load; the profile and the requests answered. */
export async function profileRoute(server, target, { seconds = 5, connections = 8 } = {}) {
  const inspector = session(await inspectorUrl(server.inspectorPort));
  await inspector.opened;
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
    const options = { url: server.url + target.path, method: target.method ?? "GET", headers: target.headers ?? {}, connections };
    await load({ ...options, duration: 1 });
    await inspector.send("Profiler.start");
    const result = await load({ ...options, duration: seconds });
    const { profile } = await inspector.send("Profiler.stop");
    return { profile, requests: result.requests.total };
  } finally {
    inspector.close();
  }
}

/** Busy time per function (self time; "[runtime]" for workerd's own frames), in ms per request. */
export function summarize(profile, requests) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map();
  let busy = 0;
  for (const [id, micros] of self) {
    const { callFrame } = nodes.get(id);
    if (callFrame.functionName === "(idle)") continue;
    busy += micros;
    const name = `${callFrame.functionName || "(anonymous)"}${callFrame.url ? `:${callFrame.lineNumber + 1}` : " [runtime]"}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const per = (micros) => Math.round(micros / requests) / 1000;
  const functions = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, micros]) => ({ name, ms_per_request: per(micros) }));
  return { requests, busy_ms_per_request: per(busy), functions };
}
