import { env } from "cloudflare:workers";
import { type Config, parseConfig } from "../../src/config";
import { fakeUpstream, json } from "./fake-upstream";

/**
 * A qBittorrent Web UI that answers as the real ones do (qBittorrent's src/webui/api),
 * in two styles: "4.x" (login 200 `Ok.` / `Fails.` with a `SID` cookie, torrents/add
 * answering `Ok.` / `Fails.`) and "5.2" (login 204 / 401 with `QBT_SID_8080`, an API key, and
 * torrents/add answering JSON, 202 while fetching and 409 for a duplicate).
 */

export const QB_URL = "http://qb.home.test:8080";
export const QB_USER = "admin";
export const QB_PASS = "hunter2-not-real";
export const QB_KEY = "qbt_live_k3y_9d8f7e6a";

export interface FakeTorrent {
  hash: string;
  name: string;
  state: string;
  progress: number;
  tags: string;
  category: string;
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

/** The hash qBittorrent would find in a torrent file at `url` (deterministic, 40 hex digits). */
export function hashOfUrl(url: string): string {
  let h = 2166136261;
  let out = "";
  for (let round = 0; out.length < 40; round++) {
    for (const ch of `${round}:${url}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 40);
}

export function fakeQbittorrent(options: FakeQbOptions) {
  const torrents = new Map<string, FakeTorrent>();
  const sessions = new Set<string>();
  const waiting: { torrent: FakeTorrent; after: number }[] = [];
  let infoCalls = 0;
  let logins = 0;
  let adds = 0;
  const cookieName = options.style === "5.2" ? "QBT_SID_8080" : "SID";

  function authorized(request: Request): boolean {
    if (options.style === "5.2" && request.headers.get("Authorization") === `Bearer ${QB_KEY}`) return true;
    const cookie = request.headers.get("Cookie") ?? "";
    const match = new RegExp(`${cookieName}=([^;]+)`).exec(cookie);
    return match !== null && sessions.has(match[1]!);
  }

  const fake = fakeUpstream(async (request, url) => {
    if (options.down) return new Response("Bad gateway", { status: options.down });
    const path = url.pathname;
    if (path === "/api/v2/auth/login" && request.method === "POST") {
      const form = new URLSearchParams(await request.text());
      logins++;
      if (form.get("username") !== QB_USER || form.get("password") !== QB_PASS) {
        return options.style === "5.2" ? new Response(null, { status: 401 }) : new Response("Fails.", { status: 200 });
      }
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
          (!tag ||
            t.tags
              .split(",")
              .map((s) => s.trim())
              .includes(tag)),
      );
      return json(
        list.map((t) => ({ ...t, dlspeed: 0, eta: 8640000, amount_left: 0, completion_on: -1, content_path: `/downloads/${t.name}` })),
      );
    }
    if (path === "/api/v2/torrents/add" && request.method === "POST") {
      adds++;
      const form = await request.formData();
      const link = String(form.get("urls") ?? "");
      const btih = /xt=urn:btih:([0-9a-f]{40})/i.exec(link)?.[1]?.toLowerCase();
      const hash = btih ?? hashOfUrl(link);
      const torrent: FakeTorrent = {
        hash,
        name: `Torrent ${hash.slice(0, 6)}`,
        state: "metaDL",
        progress: 0,
        tags: String(form.get("tags") ?? ""),
        category: String(form.get("category") ?? ""),
      };
      const duplicate = torrents.has(hash) || waiting.some((w) => w.torrent.hash === hash);
      if (options.style === "5.2") {
        if (duplicate) return json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] }, { status: 409 });
        if (options.refuseAdds) return json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] });
        if (options.pending) {
          waiting.push({ torrent, after: infoCalls + (options.urlFetchDelay ?? 1) });
          return json({ success_count: 0, failure_count: 0, pending_count: 1, added_torrent_ids: [] }, { status: 202 });
        }
        torrents.set(hash, torrent);
        return json({ success_count: 1, failure_count: 0, pending_count: 0, added_torrent_ids: [hash] });
      }
      if (duplicate || options.refuseAdds) return new Response("Fails.");
      if (!btih && options.urlFetchDelay) waiting.push({ torrent, after: infoCalls + options.urlFetchDelay });
      else torrents.set(hash, torrent);
      return new Response("Ok.");
    }
    return new Response("Not Found", { status: 404 });
  });

  return {
    ...fake,
    torrents,
    /** Ends every session, as a qBittorrent restart does (the next call answers 403). */
    expireSessions: () => sessions.clear(),
    set: (hash: string, fields: Partial<FakeTorrent>) => {
      const torrent = torrents.get(hash);
      if (!torrent) throw new Error(`no torrent ${hash}`);
      Object.assign(torrent, fields);
    },
    counts: () => ({ logins, adds, infoCalls }),
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
