import { env } from "cloudflare:workers";
import { type Config, parseConfig } from "../../src/config";
import { fakeUpstream, json } from "./fake-upstream";
import { makeTorrent, readTorrent } from "./torrent-file";

/**
 * A qBittorrent Web UI that answers as the real ones do (qBittorrent's src/webui/api and
 * src/base/http/requestparser.cpp; checked against a running 4.5.2), in two styles: "4.x" (login
 * 200 `Ok.` / `Fails.` with a `SID` cookie, torrents/add answering `Ok.` / `Fails.`) and "5.2"
 * (login 204 / 401 with `QBT_SID_8080`, an API key, and torrents/add answering JSON, 202 while
 * fetching and 409 for a duplicate). As the real ones:
 * - POST bodies are read by qBittorrent's own parser: a multipart body whose closing boundary is
 *   not followed by CRLF leaves `\r\n--<boundary>--` in its last field;
 * - a torrent added by URL is fetched by qBittorrent itself (here: `fetch`, so the test's source
 *   answers; by default a made-up torrent for that URL), and shows nothing when the fetch fails;
 * - a new torrent is `checkingResumeData` at first, then `metaDL` (a magnet) or `stalledDL` (no peers);
 * - `torrents/info?tag=` filters by exact tag, and tags read back joined by ", ";
 * - five failed logins ban the address: 403 to everything until `unban()` (an hour, for real).
 */

export const QB_URL = "http://qb.home.test:8080";
export const QB_USER = "admin";
export const QB_PASS = "hunter2-not-real";
export const QB_KEY = "qbt_live_k3y_9d8f7e6a";

/** WebUI\\MaxAuthenticationFailCount's default. */
export const QB_BAN_AFTER = 5;

export interface FakeTorrent {
  hash: string;
  name: string;
  state: string;
  progress: number;
  tags: string;
  category: string;
  save_path?: string;
  /** Bytes a second and seconds left, when a test sets them (else 0 and qBittorrent's "never"). */
  dlspeed?: number;
  eta?: number;
}

export interface FakeQbOptions {
  style: "4.x" | "5.2";
  /** 5.2: answer torrents/add with 202 (pending) instead of 200. */
  pending?: boolean;
  /** Answer every call with this status (qBittorrent down behind a proxy: 502). */
  down?: number;
  /** Refuse every torrents/add (`Fails.` / failure_count). */
  refuseAdds?: boolean;
  /** Added URL torrents appear in torrents/info only after this many info calls (fetching the .torrent). */
  urlFetchDelay?: number;
}

/** The torrent the fake serves for a URL no test source answers: named after the URL, so each URL has its own hash. */
export const torrentOfUrl = (url: string) => makeTorrent(`Torrent ${url.replace(/^https?:\/\//, "").slice(0, 60)}`);

/** The hash qBittorrent finds in the torrent file at `url` when no test source answers it. */
export async function hashOfUrl(url: string): Promise<string> {
  return (await torrentOfUrl(url)).hash;
}

/** The fields of a POST body, read as qBittorrent's RequestParser::parsePostMessage reads them. */
export function qbPostFields(contentType: string, body: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  const lower = contentType.toLowerCase();
  if (lower.startsWith("application/x-www-form-urlencoded")) {
    for (const [name, value] of new URLSearchParams(body)) fields.set(name, value);
    return fields;
  }
  if (!lower.startsWith("multipart/form-data")) return null;
  const at = contentType.indexOf("boundary=");
  if (at < 0) return null;
  const boundary = contentType.slice(at + "boundary=".length).replace(/^"(.*)"$/, "$1");
  const parts = body.split(`--${boundary}\r\n`).filter((part) => part.length > 0);
  // Only an end delimiter followed by CRLF is removed: without it, it stays in the last field.
  const end = `--${boundary}--\r\n`;
  const last = parts.pop() ?? "";
  parts.push(last.endsWith(end) ? last.slice(0, -end.length) : last);
  for (const part of parts) {
    const eoh = part.indexOf("\r\n\r\n");
    if (eoh < 0) return null;
    let payload = part.slice(eoh + 4);
    if (payload.endsWith("\r\n")) payload = payload.slice(0, -2);
    const name = /name="([^"]*)"/.exec(part.slice(0, eoh))?.[1];
    if (name === undefined) return null;
    fields.set(name, payload);
  }
  return fields;
}

export function fakeQbittorrent(options: FakeQbOptions) {
  const torrents = new Map<string, FakeTorrent>();
  const sessions = new Set<string>();
  const waiting: { torrent: FakeTorrent; after: number }[] = [];
  /** Torrents just added: checkingResumeData on their first info call, then this state. */
  const fresh = new Map<string, string>();
  /** What a test's .torrent URLs answer (the fake fetches them as qBittorrent does). */
  const sources = new Map<string, () => Response | Promise<Response>>();
  let infoCalls = 0;
  let logins = 0;
  let failedLogins = 0;
  let adds = 0;
  const cookieName = options.style === "5.2" ? "QBT_SID_8080" : "SID";

  function authorized(request: Request): boolean {
    if (options.style === "5.2" && request.headers.get("Authorization") === `Bearer ${QB_KEY}`) return true;
    const cookie = request.headers.get("Cookie") ?? "";
    const match = new RegExp(`${cookieName}=([^;]+)`).exec(cookie);
    return match !== null && sessions.has(match[1]!);
  }

  /** qBittorrent downloads the .torrent itself; a failed fetch adds nothing (it only logs). */
  async function fetchTorrent(link: string): Promise<FakeTorrent | null> {
    let file: { hash: string; name: string } | null;
    if (link.startsWith("magnet:")) {
      const btih = /xt=urn:btih:([0-9a-f]{40})/i.exec(link)?.[1]?.toLowerCase();
      if (!btih) return null;
      file = { hash: btih, name: new URLSearchParams(link.slice(8)).get("dn") ?? btih };
    } else {
      const response = await fetch(link).catch(() => null);
      if (!response?.ok) return null;
      file = await readTorrent(new Uint8Array(await response.arrayBuffer()));
    }
    return file && { hash: file.hash, name: file.name, state: "", progress: 0, tags: "", category: "" };
  }

  const fake = fakeUpstream(async (request, url) => {
    if (url.origin !== QB_URL) {
      // qBittorrent itself fetching a torrent URL.
      const source = sources.get(url.href);
      if (source) return source();
      return new Response((await torrentOfUrl(url.href)).bytes, { headers: { "Content-Type": "application/x-bittorrent" } });
    }
    if (options.down) return new Response("Bad gateway", { status: options.down });
    if (failedLogins >= QB_BAN_AFTER) {
      return new Response("Your IP address has been banned after too many failed authentication attempts.", { status: 403 });
    }
    const path = url.pathname;
    if (path === "/api/v2/auth/login" && request.method === "POST") {
      const form = qbPostFields(request.headers.get("Content-Type") ?? "", new TextDecoder().decode(await request.arrayBuffer()));
      logins++;
      if (form?.get("username") !== QB_USER || form?.get("password") !== QB_PASS) {
        failedLogins++;
        return options.style === "5.2" ? new Response(null, { status: 401 }) : new Response("Fails.", { status: 200 });
      }
      failedLogins = 0;
      const sid = crypto.randomUUID().replaceAll("-", "");
      sessions.add(sid);
      const headers = { "Set-Cookie": `${cookieName}=${sid}; HttpOnly; SameSite=Strict; path=/` };
      return options.style === "5.2" ? new Response(null, { status: 204, headers }) : new Response("Ok.", { status: 200, headers });
    }
    if (!authorized(request)) return new Response("Forbidden", { status: 403 });
    if (path === "/api/v2/app/version") return new Response(options.style === "5.2" ? "v5.2.0" : "v4.6.7");
    if (path === "/api/v2/torrents/info") {
      infoCalls++;
      for (const entry of waiting.splice(0)) {
        if (infoCalls >= entry.after) torrents.set(entry.torrent.hash, entry.torrent);
        else waiting.push(entry);
      }
      const hashes = url.searchParams
        .get("hashes")
        ?.split("|")
        .map((h) => h.toLowerCase());
      const tag = url.searchParams.get("tag");
      const list = [...torrents.values()].filter(
        (t) =>
          (!hashes || hashes.includes(t.hash)) &&
          (tag === null ||
            t.tags
              .split(",")
              .map((s) => s.trim())
              .includes(tag)),
      );
      const answer = list.map((t) => {
        const next = fresh.get(t.hash);
        fresh.delete(t.hash);
        const state = next !== undefined && t.state === "checkingResumeData" ? "checkingResumeData" : t.state;
        if (next !== undefined && t.state === "checkingResumeData") t.state = next;
        return {
          ...t,
          state,
          tags: t.tags
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
            .join(", "),
          dlspeed: t.dlspeed ?? 0,
          eta: t.eta ?? 8640000,
          amount_left: 0,
          completion_on: -1,
          save_path: t.save_path ?? "/downloads/",
          content_path: `${t.save_path ?? "/downloads/"}${t.name}`,
        };
      });
      return json(answer);
    }
    if (path === "/api/v2/torrents/add" && request.method === "POST") {
      adds++;
      const form = qbPostFields(request.headers.get("Content-Type") ?? "", new TextDecoder().decode(await request.arrayBuffer()));
      if (!form) return new Response("Bad Request", { status: 400 });
      const link = form.get("urls") ?? "";
      const fetched = await fetchTorrent(link);
      const duplicate = fetched !== null && (torrents.has(fetched.hash) || waiting.some((w) => w.torrent.hash === fetched.hash));
      const torrent: FakeTorrent | null = fetched && {
        ...fetched,
        state: "checkingResumeData",
        tags: form.get("tags") ?? "",
        category: form.get("category") ?? "",
        save_path: form.get("savepath") || undefined,
      };
      const keep = (t: FakeTorrent) => {
        fresh.set(t.hash, link.startsWith("magnet:") ? "metaDL" : "stalledDL");
        if (!link.startsWith("magnet:") && options.urlFetchDelay) waiting.push({ torrent: t, after: infoCalls + options.urlFetchDelay });
        else torrents.set(t.hash, t);
      };
      if (options.style === "5.2") {
        if (duplicate) return json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] }, { status: 409 });
        if (options.refuseAdds) return json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] });
        if (options.pending) {
          if (torrent) keep(torrent);
          return json({ success_count: 0, failure_count: 0, pending_count: 1, added_torrent_ids: [] }, { status: 202 });
        }
        if (!torrent) return json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] });
        torrents.set(torrent.hash, torrent);
        fresh.set(torrent.hash, link.startsWith("magnet:") ? "metaDL" : "stalledDL");
        return json({ success_count: 1, failure_count: 0, pending_count: 0, added_torrent_ids: [torrent.hash] });
      }
      // Before 5.2 a URL add answers Ok. before the fetch: a failed fetch only shows as nothing added.
      if (duplicate || options.refuseAdds) return new Response("Fails.");
      if (torrent) keep(torrent);
      return new Response("Ok.");
    }
    return new Response("Not Found", { status: 404 });
  });

  return {
    ...fake,
    torrents,
    /** What a .torrent URL answers when qBittorrent fetches it. */
    serve: (url: string, answer: () => Response | Promise<Response>) => void sources.set(url, answer),
    /** Ends every session, as a qBittorrent restart does (the next call answers 403). */
    expireSessions: () => sessions.clear(),
    /** The ban's hour has passed. */
    unban: () => {
      failedLogins = 0;
    },
    set: (hash: string, fields: Partial<FakeTorrent>) => {
      const torrent = torrents.get(hash);
      if (!torrent) throw new Error(`no torrent ${hash}`);
      fresh.delete(hash);
      Object.assign(torrent, fields);
    },
    counts: () => ({ logins, adds, infoCalls, failedLogins }),
    setDown: (status: number | undefined) => {
      options.down = status;
    },
  };
}

/** The test bindings with qBittorrent configured (and optionally more), parsed as the Worker does. */
export function configWith(overrides: Partial<Record<keyof Env, unknown>>): Config {
  return parseConfig({ ...env, ...overrides });
}

export const qbLogin = { QB_URL, QB_USERNAME: QB_USER, QB_PASSWORD: QB_PASS };
export const qbKey = { QB_URL, QB_API_KEY: QB_KEY };
