// The project's own flow against a real qBittorrent (Debian's qbittorrent-nox, 4.5.2 on Debian 12),
// through `wrangler dev`: logins with the default and a wrong password, an add by a .torrent URL
// served on loopback (as Prowlarr's MyAnonamouse links are), QUEUE following the torrent by its tag
// through checking to stalledUP and completed, a qBittorrent restart in the middle, and probes that
// never get the address banned. Everything stays on 127.0.0.1. `npm run test:upstreams`; .ci/run
// installs qbittorrent-nox when it is missing and runs this.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, SECRETS, startWorker } from "../browser/worker.js";
import { QB_DEFAULT_LOGIN, qbSession, qbVersion, startQbittorrent } from "./qbittorrent.js";
import { torrentOf } from "./torrent.js";

const PROWLARR_KEY = "upstream-test-prowlarr-key";
const BOOK = "Leviathan Wakes by James S. A. Corey [ENG - M4B]";

let dir, qb, prowlarr, worker, wrongWorker;
const fetched = [];
const started = Date.now();

/** Prowlarr's download proxy on loopback (`/{indexerId}/download?apikey=&link=`), serving the test's torrent. */
function startProwlarr(torrent) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/api/v1/system/status" && req.headers["x-api-key"] === PROWLARR_KEY) {
      res.writeHead(200, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ appName: "Prowlarr", version: "1.30.2.4939" }));
    }
    if (url.pathname === "/1/download" && url.searchParams.get("apikey") === PROWLARR_KEY) {
      fetched.push({ path: url.pathname, agent: req.headers["user-agent"] ?? "" });
      res.writeHead(200, { "Content-Type": "application/x-bittorrent" });
      return res.end(torrent.bytes);
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })),
  );
}

/** The API with the operator key. */
async function api(target, method, route, body) {
  const res = await fetch(`${target.base}${route}`, {
    method,
    headers: { "X-API-Key": SECRETS.API_KEY, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const runQueue = async (target) => (await api(target, "POST", "/api/scheduler/trigger/QUEUE")).body.data;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** qBittorrent's sockets and connections, from `ss`: none may be on another address than loopback. */
function foreignSockets(pid) {
  const ss = spawnSync("ss", ["-tunap"], { encoding: "utf8" });
  if (ss.status !== 0) return [];
  return ss.stdout
    .split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .filter((line) =>
      line
        .split(/\s+/)
        .slice(4, 6)
        .some((address) => !/^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]|0\.0\.0\.0|\*)(%lo)?:/.test(address)),
    );
}

describe("the loop against a real qBittorrent", { timeout: 300_000 }, () => {
  before(async () => {
    assert.ok(qbVersion(), "qbittorrent-nox is not installed: .ci/run installs it (apt-get install qbittorrent-nox)");
    dir = mkdtempSync(path.join(tmpdir(), "upstream-qbittorrent-"));
    const savePath = path.join(dir, "audiobooks");
    mkdirSync(savePath);
    // The book is already in the save path: qBittorrent checks it and has it all.
    const content = randomBytes(200 * 1024);
    writeFileSync(path.join(savePath, BOOK), content);
    const torrent = torrentOf(BOOK, content);
    prowlarr = { ...(await startProwlarr(torrent)), torrent };
    qb = await startQbittorrent({ dir, webPort: await freePort(), peerPort: await freePort(), savePath });
    const common = {
      QB_URL: qb.base,
      QB_USERNAME: QB_DEFAULT_LOGIN.username,
      QB_CATEGORY: "audiobooks-upstream-test",
      QB_SAVE_PATH: savePath,
      PROWLARR_URL: prowlarr.base,
      PROWLARR_API_KEY: PROWLARR_KEY,
    };
    [worker, wrongWorker] = await Promise.all([
      startWorker({ ...common, QB_PASSWORD: QB_DEFAULT_LOGIN.password }),
      startWorker({ ...common, QB_PASSWORD: "not-the-password" }),
    ]);
  });

  after(async () => {
    await Promise.all([worker?.stop(), wrongWorker?.stop(), qb?.stop()]);
    prowlarr?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`real-qBittorrent test (${qbVersion()}): ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("logs in with qBittorrent's default credentials and reports its version", async () => {
    const { body } = await api(worker, "GET", "/api/integrations");
    const status = body.data.integrations.find((s) => s.name === "qbittorrent");
    assert.equal(status.status, "ok", JSON.stringify(status));
    assert.equal(status.version, qbVersion().replace(/^qBittorrent /, ""));
  });

  it("reports a wrong password, and its probes and QUEUE runs never get the address banned", async () => {
    const queued = await api(wrongWorker, "POST", "/api/downloads", {
      title: "Never sent",
      source: "test",
      magnet_link: `magnet:?xt=urn:btih:${"ab".repeat(20)}&dn=never`,
    });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    // Twice qBittorrent's limit of five failed logins.
    for (let i = 0; i < 10; i++) {
      const run = await runQueue(wrongWorker);
      assert.equal(run.status, "failed");
      assert.match(run.error_message, /refused the login/);
    }
    const { body } = await api(wrongWorker, "GET", "/api/integrations");
    const status = body.data.integrations.find((s) => s.name === "qbittorrent");
    assert.equal(status.status, "error");
    assert.match(status.detail, /refused the login.*no new login before/);
    // Not banned: the right password is still let in (a ban answers 403).
    const session = await qbSession(qb.base);
    assert.equal(`${session.status} ${session.text}`, "200 Ok.");
  });

  it("adds by a .torrent URL with category, save path and tags; QUEUE follows it to completed across a restart", async () => {
    const url = `${prowlarr.base}/1/download?apikey=${PROWLARR_KEY}&link=bWFtLTEwMDE&file=${encodeURIComponent(BOOK)}`;
    const created = await api(worker, "POST", "/api/downloads", { title: BOOK, source: "Prowlarr: MyAnonamouse", torrent_url: url });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.download_id ?? created.body.data.id;

    const first = await runQueue(worker);
    assert.equal(first.status, "completed", JSON.stringify(first));
    assert.deepEqual(
      first.task_metadata.sent.map((s) => [s.download_id, s.outcome]),
      [[id, "added"]],
    );
    // qBittorrent fetched the .torrent itself, and read every field as sent (4.5.2 kept the
    // closing multipart boundary in the last one).
    let seen = [];
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      seen = await (await qbSession(qb.base)).get(`/api/v2/torrents/info?tag=mamcrawler-${id}`);
      if (seen.length === 0) await sleep(200);
    }
    assert.ok(fetched.length >= 1, "qBittorrent never fetched the torrent URL");
    assert.equal(seen.length, 1);
    assert.equal(seen[0].hash, prowlarr.torrent.hash);
    assert.equal(seen[0].category, "audiobooks-upstream-test");
    assert.equal(seen[0].tags, `mamcrawler, mamcrawler-${id}`);
    assert.equal(path.resolve(seen[0].save_path), path.resolve(path.join(dir, "audiobooks")));

    // A restart ends every WebUI session: the Worker's cookie is refused, it logs in again.
    await qb.restart();

    const states = [];
    let download;
    for (let i = 0; i < 60; i++) {
      const run = await runQueue(worker);
      assert.equal(run.status, "completed", JSON.stringify(run));
      download = (await api(worker, "GET", `/api/downloads/${id}`)).body.data;
      states.push(download.qbittorrent_status);
      if (download.status === "completed") break;
      await sleep(500);
    }
    console.log(`download ${id}: states seen by QUEUE after the restart: ${states.join(" → ")}`);
    assert.equal(download.status, "completed", JSON.stringify(download));
    assert.equal(download.qbittorrent_hash, prowlarr.torrent.hash);
    assert.equal(download.qbittorrent_status, "stalledUP");
    assert.deepEqual(foreignSockets(qb.pid()), []);
  });
});
