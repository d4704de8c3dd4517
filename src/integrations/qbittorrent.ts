import { z } from "zod";
import { type Config, type QbittorrentSettings, requireService } from "../config";
import { ServiceClient, UpstreamError, type UpstreamRequest, type UpstreamResponse } from "./http";
import { upstreamId, upstreamList, upstreamText } from "./upstream-text";

/**
 * qBittorrent Web API v2 over the shared HTTP helper. Authentication, oldest to newest:
 * username/password login (4.1+: 200 `Ok.` and a `SID` cookie; 200 `Fails.` on a wrong password;
 * 5.2+: 204 and a `QBT_SID_<port>` cookie, 401 on failure), or a 5.2+ API key sent as
 * `Authorization: Bearer qbt_…` with no login at all. A 403 means the session expired: log in
 * again, once. The session cookie is kept per isolate, so a QUEUE run every five minutes (or a
 * status probe) does not log in every time. A refused login is remembered for LOGIN_HOLD_MS (in D1
 * when the caller passes `refusals`, so across isolates), in which no new login is tried:
 * qBittorrent bans the address for an hour after five failed logins.
 */

/** The tag on every torrent this service adds; a second tag names the download. */
export const QB_TAG = "mamcrawler";
export const downloadTag = (downloadId: number) => `${QB_TAG}-${downloadId}`;

/** Texts cleaned and clipped where they land (./upstream-text.ts): the hash and state in a download. */
const torrentSchema = z.object({
  hash: upstreamId(64).regex(/^[0-9a-f]+$/i),
  name: upstreamText(500).optional().default(""),
  state: upstreamText(100),
  // A fraction in 0..1 (stored as the download's progress).
  progress: z
    .number()
    .optional()
    .default(0)
    .transform((value) => Math.min(1, Math.max(0, value))),
  dlspeed: z.number().optional(),
  eta: z.number().optional(),
  amount_left: z.number().optional(),
  completion_on: z.number().optional(),
  tags: upstreamText(2_000).optional().default(""),
  category: upstreamText(200).optional(),
});
/** Torrents read of one answer: the QUEUE task asks by hash or by one download's tag. */
const MAX_TORRENTS = 5_000;
export type Torrent = z.output<typeof torrentSchema>;

/** 5.2+ answer of torrents/add; older versions answer the text `Ok.` / `Fails.`. */
const addJsonSchema = z.object({
  success_count: z.number().optional().default(0),
  failure_count: z.number().optional().default(0),
  pending_count: z.number().optional().default(0),
  added_torrent_ids: upstreamList(z.string(), 10).optional().default([]),
});

export type AddOutcome =
  /** Added now; `hash` when qBittorrent said which (5.2's added_torrent_ids). */
  | { result: "added"; hash?: string }
  /** Accepted, still fetching the .torrent (5.2's 202). */
  | { result: "pending" }
  /** qBittorrent already has it (5.2's 409). */
  | { result: "duplicate" }
  /** Refused (`Fails.`, a failure_count, 415 for a file that is not a torrent). */
  | { result: "refused"; detail: string };

export interface AddTorrent {
  url: string;
  category: string;
  savePath?: string;
  tags: string[];
}

/** Session cookies by qBittorrent URL and user, for the life of the isolate. */
const sessions = new Map<string, string>();

/** How long a refused login is remembered before another is tried (qBittorrent's ban: 5 failures, then an hour). */
export const LOGIN_HOLD_MS = 15 * 60_000;

/** A refused login: when, and what qBittorrent answered. */
export interface LoginRefusal {
  at: number;
  detail: string;
  upstreamStatus: number;
}

/**
 * Where refused logins are remembered, by a key that is the SHA-256 of the URL, user and password
 * (no credential in it). The Worker passes one kept in D1, so every isolate knows
 * (src/services/login-refusals.ts); without it, this isolate's memory.
 */
export interface LoginRefusals {
  get(key: string): Promise<LoginRefusal | undefined>;
  set(key: string, refusal: LoginRefusal): Promise<void>;
  clear(key: string): Promise<void>;
}

const remembered = new Map<string, LoginRefusal>();
const isolateRefusals: LoginRefusals = {
  get: async (key) => remembered.get(key),
  set: async (key, refusal) => void remembered.set(key, refusal),
  clear: async (key) => void remembered.delete(key),
};

export interface QbittorrentClientOptions {
  /** Retries of idempotent reads (a status probe makes none). */
  retries?: number;
  /** The clock, in milliseconds (tests give it). */
  now?: () => number;
  /** Where refused logins are remembered (default: this isolate). */
  refusals?: LoginRefusals;
}

export class QbittorrentClient {
  private readonly http: ServiceClient;
  private readonly settings: QbittorrentSettings;
  private readonly sessionKey: string;
  private readonly loginKey: string;
  private readonly now: () => number;
  private readonly refusals: LoginRefusals;

  constructor(settings: QbittorrentSettings, upstream: Config["upstream"], options: QbittorrentClientOptions = {}) {
    this.settings = settings;
    this.sessionKey = `${settings.url}\n${settings.login?.username ?? ""}`;
    // A corrected password is tried at once; only the refused one is held.
    this.loginKey = `${this.sessionKey}\n${settings.login?.password ?? ""}`;
    this.now = options.now ?? Date.now;
    this.refusals = options.refusals ?? isolateRefusals;
    this.http = new ServiceClient({
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      service: "qbittorrent",
      baseUrl: settings.url,
      upstream,
      // Through the Workers VPC binding when one is bound (QB_VPC), else the internet.
      fetcher: settings.fetcher,
      authHeaders: settings.apiKey ? { Authorization: `Bearer ${settings.apiKey}` } : undefined,
    });
  }

  /** `v5.0.1` */
  version(): Promise<string> {
    return this.call({ path: "/api/v2/app/version" }).then((response) => response.text.trim());
  }

  /** Torrents by hash (`|`-joined) and/or tag; an empty hash list asks for nothing. */
  async torrents(filter: { hashes?: string[]; tag?: string }): Promise<Torrent[]> {
    if (filter.hashes && filter.hashes.length === 0) return [];
    const request: UpstreamRequest = { path: "/api/v2/torrents/info", query: { hashes: filter.hashes?.join("|"), tag: filter.tag } };
    return this.http.parse(await this.call(request), upstreamList(torrentSchema, MAX_TORRENTS), request);
  }

  /**
   * Adds one torrent by URL or magnet. Never retried: a write. Sent urlencoded, which every version
   * from 4.1 to 5.2 reads cleanly: a multipart body as fetch's FormData writes it (no CRLF after the
   * closing boundary) makes 4.5.2 keep `\r\n--<boundary>--` in the last field, a save path or the tags.
   */
  async add(torrent: AddTorrent): Promise<AddOutcome> {
    const form: Record<string, string> = { urls: torrent.url, category: torrent.category, tags: torrent.tags.join(",") };
    if (torrent.savePath) form.savepath = torrent.savePath;
    const request: UpstreamRequest = { method: "POST", path: "/api/v2/torrents/add", body: { form }, accept: [409, 415] };
    const response = await this.call(request);
    if (response.status === 409) return { result: "duplicate" };
    if (response.status === 415) return { result: "refused", detail: "qBittorrent answered 415: not a valid torrent" };
    if (response.status === 202) return { result: "pending" };
    const text = response.text.trim();
    if (text === "Ok.") return { result: "added" };
    if (text === "Fails.") return { result: "refused", detail: "qBittorrent answered Fails. (an invalid or already added torrent)" };
    const json = this.http.parse(response, addJsonSchema, request);
    const id = json.added_torrent_ids[0]?.toLowerCase();
    if (json.success_count > 0) return { result: "added", hash: id && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(id) ? id : undefined };
    if (json.pending_count > 0) return { result: "pending" };
    return { result: "refused", detail: `qBittorrent added nothing (failure_count ${json.failure_count})` };
  }

  /** A call with the credential: the key, or the session cookie (logging in first, and again once on 403). */
  private async call(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.settings.apiKey) return this.http.request(request);
    const accept = [...(request.accept ?? []), 403];
    let cookie = sessions.get(this.sessionKey) ?? (await this.login());
    let response = await this.http.request({ ...request, accept, headers: { ...request.headers, Cookie: cookie } });
    if (response.status === 403) {
      sessions.delete(this.sessionKey);
      cookie = await this.login();
      response = await this.http.request({ ...request, accept: request.accept, headers: { ...request.headers, Cookie: cookie } });
    }
    return response;
  }

  /** Logs in and keeps the session cookie: `SID` (before 5.2) or `QBT_SID_<port>` (5.2+). */
  private async login(): Promise<string> {
    const login = this.settings.login;
    if (!login) throw new UpstreamError("qbittorrent", "status", "qBittorrent needs QB_API_KEY or QB_USERNAME and QB_PASSWORD");
    const key = await sha256(this.loginKey);
    const held = await this.refusals.get(key);
    if (held && this.now() - held.at < LOGIN_HOLD_MS) {
      const until = new Date(held.at + LOGIN_HOLD_MS).toISOString();
      throw new UpstreamError(
        "qbittorrent",
        "status",
        `${held.detail} (at ${new Date(held.at).toISOString()}; no new login before ${until}, so qBittorrent does not ban this address)`,
        {
          upstreamStatus: held.upstreamStatus,
        },
      );
    }
    const response = await this.http.request({
      method: "POST",
      path: "/api/v2/auth/login",
      body: { form: { username: login.username, password: login.password } },
      accept: [401, 403],
      // Logging in twice is harmless.
      idempotent: true,
    });
    const refused = response.status === 401 || response.status === 403 || response.text.trim() === "Fails.";
    if (refused) {
      const why =
        response.status === 403
          ? "answered 403 to the login: too many failed logins, the IP is banned for a while"
          : "refused the login: check QB_USERNAME and QB_PASSWORD";
      await this.refusals.set(key, { at: this.now(), detail: `qBittorrent ${why}`, upstreamStatus: response.status });
      throw new UpstreamError("qbittorrent", "status", `qBittorrent ${why}`, { upstreamStatus: response.status });
    }
    if (held) await this.refusals.clear(key);
    const cookie = sessionCookie(response.headers);
    if (!cookie)
      throw new UpstreamError("qbittorrent", "shape", "qBittorrent accepted the login but set no session cookie (SID or QBT_SID_<port>)");
    sessions.set(this.sessionKey, cookie);
    return cookie;
  }
}

/** `SID=…` or `QBT_SID_8080=…` from the login's Set-Cookie headers, as a Cookie header value. */
export function sessionCookie(headers: Headers): string | undefined {
  const all = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [headers.get("Set-Cookie") ?? ""];
  for (const line of all) {
    const match = /^\s*((?:QBT_)?SID(?:_\d+)?)=([^;]*)/.exec(line);
    if (match?.[2]) return `${match[1]}=${match[2]}`;
  }
  return undefined;
}

/** The client for this configuration, or a 503 naming the bindings to set. */
export function qbittorrent(config: Config, options: QbittorrentClientOptions = {}): QbittorrentClient {
  return new QbittorrentClient(requireService(config, "qbittorrent"), config.upstream, options);
}

/** Forget cached sessions and refused logins (tests start each case logged out). */
export function forgetSessions(): void {
  sessions.clear();
  remembered.clear();
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The BitTorrent info hash of a magnet link, lower-case hex (base32 btih converted), or null. */
export function magnetHash(magnet: string): string | null {
  const match = /[?&]xt=urn:btih:([A-Za-z0-9]+)/i.exec(magnet);
  if (!match) return null;
  const value = match[1]!;
  if (/^[0-9a-f]{40}$/i.test(value)) return value.toLowerCase();
  if (/^[A-Z2-7]{32}$/i.test(value)) return base32ToHex(value.toUpperCase());
  return null;
}

function base32ToHex(value: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of value) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  let hex = "";
  for (let i = 0; i + 4 <= bits.length; i += 4) hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex;
}
