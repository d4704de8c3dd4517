import { ServiceUnavailableError } from "../errors";
import { isExampleValue, type ParsedEnv } from "./env";
import type { Config } from "./index";

// The outside services: which are configured, with what settings, or which bindings to set.

/** The outside services, by the name their errors and /api/integrations use. */
export const SERVICE_NAMES = ["audiobookshelf", "qbittorrent", "prowlarr", "google_books", "audible"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A Workers VPC service binding (`ABS_VPC`, `QB_VPC`, `PROWLARR_VPC`): requests go through it instead of the internet. */
export interface VpcFetcher {
  fetch: typeof fetch;
}

export interface AudiobookshelfSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  token: string;
  /** One library, or undefined for every library whose mediaType is book. */
  libraryId: string | undefined;
}
export interface QbittorrentSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  /** 5.2+ API key; preferred over the login when set. */
  apiKey: string | undefined;
  login: { username: string; password: string } | undefined;
  category: string;
  savePath: string | undefined;
}
export interface ProwlarrSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  apiKey: string;
}
export interface GoogleBooksSettings {
  url: string;
  apiKey: string;
}
/** The Audible catalogue: public and keyless, so only its base URL (a region by its host). */
export interface AudibleSettings {
  url: string;
}
export interface ServiceSettings {
  audiobookshelf: AudiobookshelfSettings;
  qbittorrent: QbittorrentSettings;
  prowlarr: ProwlarrSettings;
  google_books: GoogleBooksSettings;
  audible: AudibleSettings;
}

/** A service is configured with its settings, or not, with the bindings to set (names, never values). */
export type Integration<T> = { configured: true; settings: T } | { configured: false; missing: string[] };
export type Integrations = { [S in ServiceName]: Integration<ServiceSettings[S]> };

export interface UpstreamSettings {
  /** Deadline of one call, retries included. */
  timeoutMs: number;
  /** Cloudflare Access service token for the self-hosted services behind a Tunnel. */
  accessToken: { clientId: string; clientSecret: string } | undefined;
  qbMaxActive: number;
  qbStallMinutes: number;
  acquireMaxPerRun: number;
  /** The language releases must be in (ISO 639-2/B, as MyAnonamouse tags them); null: any. */
  releaseLanguage: string | null;
}

/** Outside production, a key still holding its example value ("change-me") counts as not set. */
function realKey(value: string | undefined): string | undefined {
  return value && !isExampleValue(value) ? value : undefined;
}

function integration<T>(settings: T | undefined, missing: string[]): Integration<T> {
  return settings && missing.length === 0 ? { configured: true, settings } : { configured: false, missing };
}

/** A binding that can fetch (a VPC service), else undefined. */
function vpcFetcher(bindings: Record<string, unknown>, name: string): VpcFetcher | undefined {
  const binding = bindings[name] as { fetch?: unknown } | undefined;
  return typeof binding?.fetch === "function" ? (binding as VpcFetcher) : undefined;
}

export function integrationsOf(env: Partial<ParsedEnv>, bindings: Record<string, unknown> = {}): Integrations {
  const absToken = realKey(env.ABS_TOKEN);
  const qbKey = realKey(env.QB_API_KEY);
  const qbPassword = realKey(env.QB_PASSWORD);
  const qbLogin = env.QB_USERNAME && qbPassword ? { username: env.QB_USERNAME, password: qbPassword } : undefined;
  const prowlarrKey = realKey(env.PROWLARR_API_KEY);
  const googleKey = realKey(env.GOOGLE_BOOKS_API_KEY);
  const need = (pairs: [string, unknown][]) => pairs.filter(([, value]) => !value).map(([name]) => name);
  return {
    audiobookshelf: integration(
      env.ABS_URL && absToken
        ? { url: env.ABS_URL, fetcher: vpcFetcher(bindings, "ABS_VPC"), token: absToken, libraryId: env.ABS_LIBRARY_ID }
        : undefined,
      need([
        ["ABS_URL", env.ABS_URL],
        ["ABS_TOKEN", absToken],
      ]),
    ),
    qbittorrent: integration(
      env.QB_URL && (qbKey || qbLogin)
        ? {
            url: env.QB_URL,
            fetcher: vpcFetcher(bindings, "QB_VPC"),
            apiKey: qbKey,
            login: qbLogin,
            category: env.QB_CATEGORY ?? "audiobooks",
            savePath: env.QB_SAVE_PATH,
          }
        : undefined,
      need([
        ["QB_URL", env.QB_URL],
        ["QB_API_KEY (or QB_USERNAME and QB_PASSWORD)", qbKey || qbLogin],
      ]),
    ),
    prowlarr: integration(
      env.PROWLARR_URL && prowlarrKey
        ? { url: env.PROWLARR_URL, fetcher: vpcFetcher(bindings, "PROWLARR_VPC"), apiKey: prowlarrKey }
        : undefined,
      need([
        ["PROWLARR_URL", env.PROWLARR_URL],
        ["PROWLARR_API_KEY", prowlarrKey],
      ]),
    ),
    google_books: integration(
      googleKey ? { url: env.GOOGLE_BOOKS_URL ?? "https://www.googleapis.com/books/v1", apiKey: googleKey } : undefined,
      need([["GOOGLE_BOOKS_API_KEY", googleKey]]),
    ),
    audible: integration({ url: env.AUDIBLE_URL ?? "https://api.audible.com" }, []),
  };
}

export function upstreamOf(env: Partial<ParsedEnv>): UpstreamSettings {
  const clientId = realKey(env.UPSTREAM_ACCESS_CLIENT_ID);
  const clientSecret = realKey(env.UPSTREAM_ACCESS_CLIENT_SECRET);
  return {
    timeoutMs: env.UPSTREAM_TIMEOUT_MS ?? 10_000,
    accessToken: clientId && clientSecret ? { clientId, clientSecret } : undefined,
    qbMaxActive: env.QB_MAX_ACTIVE ?? 3,
    qbStallMinutes: env.QB_STALL_MINUTES ?? 120,
    acquireMaxPerRun: env.ACQUIRE_MAX_PER_RUN ?? 5,
    releaseLanguage: env.RELEASE_LANGUAGE === undefined ? "ENG" : env.RELEASE_LANGUAGE,
  };
}

/** Display names, for messages. */
export const SERVICE_LABELS: Record<ServiceName, string> = {
  audiobookshelf: "Audiobookshelf",
  qbittorrent: "qBittorrent",
  prowlarr: "Prowlarr",
  google_books: "Google Books",
  audible: "Audible",
};

/** A service's settings, or a 503 `service_unavailable` naming the bindings to set (names only). */
export function requireService<S extends ServiceName>(config: Config, service: S): ServiceSettings[S] {
  const integration = config.integrations[service];
  if (integration.configured) return integration.settings;
  // Production names no binding (as /api/system/configuration); elsewhere it says what to set.
  throw new ServiceUnavailableError(
    config.isProduction
      ? `${SERVICE_LABELS[service]} is not configured`
      : `${SERVICE_LABELS[service]} is not configured: set ${integration.missing.join(" and ")} (see README, "Connecting your services")`,
  );
}
