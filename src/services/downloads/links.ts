import type { Config } from "../../config";
import { LINE_CONTROLS } from "../../lib/validate";
import type { Release } from "../releases";

/**
 * What a download's link may be, the one rule for POST /api/downloads, acquisition and the QUEUE
 * task (README, "Security notes"): a `magnet:?` link, or an http(s) link on Prowlarr's own origin
 * (PROWLARR_URL), where Prowlarr serves its download proxy `{PROWLARR_URL}/{indexerId}/download?
 * apikey={key}&link=…&file=…` (its DownloadMappingService). Anything else (a cloud metadata address,
 * qBittorrent's own API, file:, javascript:, data:) never reaches qBittorrent, which would fetch it.
 *
 * Prowlarr's key is a credential in the link: it is taken out before the link is stored and put
 * back from PROWLARR_API_KEY only in what is sent to qBittorrent. A magnet's trackers may carry a
 * private tracker's passkey: the magnet is stored whole (qBittorrent needs its trackers) and
 * answered without them.
 */

export const MAX_MAGNET_CHARS = 10_000;
export const MAX_URL_CHARS = 2_048;
export const MAGNET_PATTERN = /^magnet:\?/i;

/** Prowlarr's key parameter (DownloadMappingService: `?apikey=`); .NET reads query names in any case. */
const PROWLARR_KEY = "apikey";
/** Prowlarr's download proxy path, below PROWLARR_URL's own path: `/{indexerId}/download`. */
const PROWLARR_DOWNLOAD = /\/\d+\/download$/;
/** Query parameters that carry a credential in the links trackers and indexers hand out. */
const CREDENTIAL_PARAM = /^(api_?key|apikey|passkey|pass_?key|authkey|auth|torrent_pass|token|secret|password|pk|sid|key)$/i;
/** What an answered magnet keeps: the info hash, the name and the size; trackers and sources may carry passkeys. */
const SHOWN_MAGNET_PARAMS = new Set(["xt", "dn", "xl"]);

export type LinkCheck = { ok: true; kind: "magnet" | "prowlarr"; link: string } | { ok: false; reason: string };

/** PROWLARR_URL when Prowlarr is configured: the only origin http(s) links may point at. */
export function prowlarrUrlOf(config: Config): string | undefined {
  const prowlarr = config.integrations.prowlarr;
  return prowlarr.configured ? prowlarr.settings.url : undefined;
}

/**
 * Whether `link` may be handed to qBittorrent, and the form to store: a magnet as given, a
 * Prowlarr link without its key. The reason never repeats the link (it may hold a credential).
 */
export function checkLink(link: string, prowlarrUrl: string | undefined): LinkCheck {
  const text = link.trim();
  if (LINE_CONTROLS.test(text)) return { ok: false, reason: "the link holds control characters" };
  if (MAGNET_PATTERN.test(text)) {
    return text.length <= MAX_MAGNET_CHARS
      ? { ok: true, kind: "magnet", link: text }
      : { ok: false, reason: `a magnet link longer than ${MAX_MAGNET_CHARS} characters` };
  }
  if (text.length > MAX_URL_CHARS) return { ok: false, reason: `a link longer than ${MAX_URL_CHARS} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "neither a magnet: link nor a URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `a ${url.protocol} link: only magnet: links and Prowlarr's http(s) links are sent` };
  }
  if (url.username || url.password) return { ok: false, reason: "a link with a user name or password in it" };
  if (!prowlarrUrl) return { ok: false, reason: "an http(s) link, and Prowlarr is not configured (PROWLARR_URL)" };
  if (url.origin !== new URL(prowlarrUrl).origin) {
    return { ok: false, reason: "an http(s) link outside Prowlarr's origin (PROWLARR_URL)" };
  }
  url.search = withoutParams(url.search, (name) => name.toLowerCase() === PROWLARR_KEY);
  return { ok: true, kind: "prowlarr", link: url.href };
}

/**
 * The link as qBittorrent gets it: a stored Prowlarr download link with PROWLARR_API_KEY put back
 * (only on Prowlarr's download path, so the key goes nowhere else); a magnet as stored.
 */
export function sendableLink(checked: Extract<LinkCheck, { ok: true }>, prowlarr: { url: string; apiKey: string } | undefined): string {
  if (checked.kind !== "prowlarr" || !prowlarr) return checked.link;
  const url = new URL(checked.link);
  const base = new URL(prowlarr.url).pathname.replace(/\/+$/, "");
  if (url.pathname.startsWith(base) && PROWLARR_DOWNLOAD.test(url.pathname.slice(base.length))) {
    // First, as Prowlarr writes it: the link qBittorrent gets is the one Prowlarr handed out.
    url.search = `?${PROWLARR_KEY}=${encodeURIComponent(prowlarr.apiKey)}${url.search.replace(/^\?/, "&")}`;
  }
  return url.href;
}

/**
 * A query string without the parameters `drop` names, the others exactly as written (re-encoding
 * them with URLSearchParams would turn Prowlarr's `%20` into `+`, and the stored link would no
 * longer be the one Prowlarr handed out).
 */
function withoutParams(search: string, drop: (name: string) => boolean): string {
  const kept = search
    .replace(/^\?/, "")
    .split("&")
    .filter((part) => {
      if (!part) return false;
      const name = part.split("=", 1)[0]!;
      try {
        return !drop(decodeURIComponent(name.replaceAll("+", " ")));
      } catch {
        return !drop(name);
      }
    });
  return kept.length > 0 ? `?${kept.join("&")}` : "";
}

/**
 * A link as answered: a magnet with only its hash, name and size (no trackers: they may carry a
 * passkey); a URL without the query parameters that carry credentials. Rows stored before keys
 * were taken out are answered clean too.
 */
export function shownLink(link: string | null): string | null {
  if (link === null) return null;
  if (MAGNET_PATTERN.test(link)) {
    const params = new URLSearchParams(link.slice(link.indexOf("?") + 1));
    const kept = [...params].filter(([name]) => SHOWN_MAGNET_PARAMS.has(name.toLowerCase()));
    return `magnet:?${kept.map(([name, value]) => `${name}=${name.toLowerCase() === "xt" ? value : encodeURIComponent(value)}`).join("&")}`;
  }
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return link;
  }
  url.username = "";
  url.password = "";
  url.search = withoutParams(url.search, (name) => CREDENTIAL_PARAM.test(name));
  return url.href;
}

export type ReleaseLink = { magnet_link: string } | { torrent_url: string } | { refused: string };

/**
 * How a release is handed to qBittorrent, as stored: a magnet as is; else Prowlarr's download URL
 * (without its key); else its magnet URL; else a magnet from the hash. The first the link rules
 * allow (checkLink); `refused` with the first reason when none; null with no link at all.
 */
export function releaseLink(release: Release, prowlarrUrl: string | undefined): ReleaseLink | null {
  const hash = release.infoHash && /^[0-9a-f]{40}$/.test(release.infoHash) ? release.infoHash : null;
  const candidates = [
    release.magnetUrl?.startsWith("magnet:") ? release.magnetUrl : null,
    release.downloadUrl,
    release.magnetUrl,
    hash && `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(release.title)}`,
  ].filter((link): link is string => Boolean(link));
  let refused: string | undefined;
  for (const link of candidates) {
    const checked = checkLink(link, prowlarrUrl);
    if (checked.ok) return checked.kind === "magnet" ? { magnet_link: checked.link } : { torrent_url: checked.link };
    refused ??= checked.reason;
  }
  if (release.infoHash && !hash) refused ??= "an info hash that is not 40 hexadecimal digits";
  return refused ? { refused } : null;
}
