// A real qBittorrent (Debian's qbittorrent-nox) for test/upstreams/: its own profile in a temp
// folder, every socket on 127.0.0.1, and nothing that reaches out (no DHT, PeX, LSD, UPnP/NAT-PMP,
// no peer-country lookup), so nothing leaves loopback. Restartable on the same profile and ports.
import { spawn, spawnSync } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const QB_BINARY = process.env.QBITTORRENT_NOX ?? "qbittorrent-nox";
/** 4.5.2's WebUI login before anyone changes it (from 4.6.1 a temporary password is printed instead). */
export const QB_DEFAULT_LOGIN = { username: "admin", password: "adminadmin" };

/** The version line of the installed binary ("qBittorrent v4.5.2"), or null when it is missing. */
export function qbVersion() {
  const run = spawnSync(QB_BINARY, ["--version"], { encoding: "utf8" });
  return run.status === 0 ? run.stdout.trim() : null;
}

/**
 * From 4.6.1 there is no default password (a temporary one is printed at each start): the profile
 * then sets the default login's password, as qBittorrent stores it (PBKDF2-HMAC-SHA512, 100,000
 * rounds, 16-byte salt). 4.5.2 (Debian 12) is left with its own default, which is what is tested.
 */
function passwordLine() {
  const [major, minor, patch] = (/v(\d+)\.(\d+)\.(\d+)/.exec(qbVersion() ?? "") ?? []).slice(1).map(Number);
  if (major < 4 || (major === 4 && (minor < 6 || (minor === 6 && patch < 1)))) return "";
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(QB_DEFAULT_LOGIN.password, salt, 100_000, 64, "sha512");
  return `WebUI\\Password_PBKDF2="@ByteArray(${salt.toString("base64")}:${hash.toString("base64")})"\n`;
}

function config({ webPort, peerPort, savePath }) {
  return `[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\PeXEnabled=false
Session\\LSDEnabled=false
Session\\Port=${peerPort}
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DefaultSavePath=${savePath}
Session\\AnonymousModeEnabled=true

[Network]
PortForwardingEnabled=false

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port=${webPort}
WebUI\\UPnP=false
WebUI\\LocalHostAuth=true
WebUI\\HostHeaderValidation=false
Connection\\UPnP=false
Connection\\ResolvePeerCountries=false
General\\Locale=en
${passwordLine()}`;
}

/**
 * Writes the profile and starts qBittorrent; `restart()` stops it and starts it again on the same
 * profile (its torrents kept, every WebUI session lost).
 */
export async function startQbittorrent({ dir, webPort, peerPort, savePath }) {
  const profile = path.join(dir, "profile");
  mkdirSync(path.join(profile, "qBittorrent", "config"), { recursive: true });
  writeFileSync(path.join(profile, "qBittorrent", "config", "qBittorrent.conf"), config({ webPort, peerPort, savePath }));
  const base = `http://127.0.0.1:${webPort}`;
  let child;
  let output = "";

  async function start() {
    child = spawn(QB_BINARY, [`--profile=${profile}`, `--webui-port=${webPort}`], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`qbittorrent-nox exited with ${child.exitCode}:\n${output}`);
      try {
        // Up: it answers (403 without a session).
        await fetch(`${base}/api/v2/app/version`);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw new Error(`qbittorrent-nox did not answer within 30 s:\n${output}`);
  }

  async function stop() {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGTERM");
    await exited;
  }

  await start();
  return {
    base,
    pid: () => child.pid,
    log: () => output,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** The test's own look at qBittorrent (not the project's client): a login, then GETs with its cookie. */
export async function qbSession(base, login = QB_DEFAULT_LOGIN) {
  const res = await fetch(`${base}/api/v2/auth/login`, { method: "POST", body: new URLSearchParams(login) });
  const text = await res.text();
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  return {
    status: res.status,
    text,
    get: async (route) => (await fetch(`${base}${route}`, { headers: { Cookie: cookie } })).json(),
  };
}
