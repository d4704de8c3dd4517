// Drives one target with autocannon at fixed connections and duration, after a short warm-up
// whose numbers are thrown away (first requests compile code and fill caches).
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import autocannon from "autocannon";

export const LOAD = { connections: 32, warmupSeconds: 2, durationSeconds: 8 };

function run(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * Requests per second, p50 and p99 latency (ms) and errors of `target` on `server`.
 * Errors are failed connections, timeouts and any answer outside 2xx: a 429 counts as one,
 * so a run where the limiter refused anything shows it here.
 */
export async function measure(server, target) {
  const options = {
    url: server.url + target.path,
    method: target.method ?? "GET",
    headers: target.headers ?? {},
    body: target.body,
    connections: target.connections ?? LOAD.connections,
    timeout: 10,
  };
  await run({ ...options, duration: LOAD.warmupSeconds });
  server.frontPid ??= listenerPid(server.child.pid, Number(new URL(server.url).port));
  const before = cpuTicks(server.child.pid, server.frontPid);
  const result = await run({ ...options, duration: LOAD.durationSeconds });
  const after = cpuTicks(server.child.pid, server.frontPid);
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / result.duration),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.errors + result.non2xx, // autocannon's errors include its timeouts
    status_codes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    others_cpu_pct: before && after ? othersCpuPercent(before, after) : null,
    // Every process of the dev server (wrangler, workerd: the Worker and its Durable Objects)
    // over the requests answered: the CPU a request costs on this runtime, floor included.
    server_cpu_ms_per_request: before && after && result.requests.total ? serverCpuMs(before, after, result.requests.total) : null,
    // The same figure split by process: the workerd that runs the Worker and its Durable Objects;
    // wrangler's front workerd (it listens on the dev port and passes each request on, and relays
    // the Worker's inspector, console messages included, to Node); the rest, wrangler's Node
    // process above all, which receives and prints each console.log line.
    ...(before && after && result.requests.total
      ? {
          worker_workerd_cpu_ms_per_request: serverCpuMs(before, after, result.requests.total, "worker"),
          front_workerd_cpu_ms_per_request: serverCpuMs(before, after, result.requests.total, "front"),
          node_cpu_ms_per_request: serverCpuMs(before, after, result.requests.total, "node"),
        }
      : {}),
  };
}

// Other people's work on a shared machine skews a run. /proc tells how much CPU went to processes
// that are neither this one (autocannon runs here) nor the server's process group, as a share of
// all the CPU time that passed: near 0 is a clean measurement.
const USER_HZ = 100;

/**
 * The process of the server's group that listens on `port` (wrangler dev's front workerd), from
 * /proc/net/tcp's listening sockets and each process's open descriptors; undefined if none is found.
 */
function listenerPid(serverGroup, port) {
  if (!existsSync("/proc/net/tcp")) return undefined;
  const inodes = new Set();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local address "ADDR:PORT" in hex, state 0A = LISTEN, inode in the tenth column
      if (f.length > 9 && f[3] === "0A" && Number.parseInt(f[1].split(":")[1], 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== serverGroup) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
    } catch {
      // the process ended meanwhile, or its descriptors are not ours to read
    }
  }
  return undefined;
}

function cpuTicks(serverGroup, frontPid) {
  if (!existsSync("/proc/stat")) return undefined;
  const times = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = times;
  let server = 0;
  let worker = 0;
  let front = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime + stime, and cutime + cstime: a process of the group that ended (wrangler restarts
      // some) leaves its ticks to its parent's children's times, so the sum never goes back.
      if (Number(fields[2]) !== serverGroup) continue;
      const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      server += ticks;
      if (Number(pid) === frontPid) front += ticks;
      else if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === "workerd") worker += ticks;
    } catch {
      // the process ended meanwhile
    }
  }
  const own = process.cpuUsage();
  return {
    all: user + nice + system + idle + iowait + irq + softirq + steal,
    busy: user + nice + system + irq + softirq + steal,
    server,
    worker,
    front,
    node: server - worker - front,
    ours: server + ((own.user + own.system) / 1e6) * USER_HZ,
  };
}

function serverCpuMs(before, after, requests, part = "server") {
  return Math.round((((after[part] - before[part]) * 1000) / USER_HZ / requests) * 100) / 100;
}

function othersCpuPercent(before, after) {
  const others = after.busy - before.busy - (after.ours - before.ours);
  return Math.min(100, Math.max(0, Math.round((others / (after.all - before.all)) * 100)));
}
