import { z } from "zod";
import { type Config, SERVICE_NAMES, type ServiceName } from "../config";
import { Audiobookshelf } from "./audiobookshelf";
import { ServiceClient, UpstreamError } from "./http";
import { type LoginRefusals, QbittorrentClient } from "./qbittorrent";

/**
 * Live status of each outside service (GET /api/integrations), each probed with one cheap call:
 * ABS `GET /api/libraries`, qBittorrent `GET /api/v2/app/version` (through its client: the session
 * is reused, and a refused login is not tried again for a while), Prowlarr
 * `GET /api/v1/system/status`. Google Books is not probed (every call counts against its daily
 * quota), nor the public Audible catalogue (asked only as much as the series need): configured is
 * all they report. Answers are cached per isolate for up to CACHE_MS.
 */

export const CACHE_MS = 60_000;

export interface ServiceStatus {
  name: ServiceName;
  configured: boolean;
  status: "ok" | "error" | "not_configured";
  latency_ms: number | null;
  version?: string;
  detail?: string;
}

const cache = new WeakMap<Config, { at: number; statuses: ServiceStatus[] }>();

export interface ProbeOptions {
  /** Where qBittorrent's refused logins are remembered (the Worker: D1). */
  qbRefusals?: LoginRefusals;
}

export async function integrationStatuses(config: Config, options: ProbeOptions = {}, now = Date.now()) {
  const hit = cache.get(config);
  if (hit && now - hit.at < CACHE_MS) return { integrations: hit.statuses, checked_at: new Date(hit.at).toISOString(), cached: true };
  const statuses = await Promise.all(SERVICE_NAMES.map((name) => statusOf(config, name, options)));
  cache.set(config, { at: now, statuses });
  return { integrations: statuses, checked_at: new Date(now).toISOString(), cached: false };
}

async function statusOf(config: Config, name: ServiceName, options: ProbeOptions): Promise<ServiceStatus> {
  const integration = config.integrations[name];
  if (!integration.configured) {
    const detail = config.isProduction ? "Not configured; see the deployment guide" : `Set ${integration.missing.join(" and ")}`;
    return { name, configured: false, status: "not_configured", latency_ms: null, detail };
  }
  if (name === "google_books") {
    return {
      name,
      configured: true,
      status: "ok",
      latency_ms: null,
      detail: "Configured; not probed, since every call counts against the daily quota",
    };
  }
  if (name === "audible") {
    return {
      name,
      configured: true,
      status: "ok",
      latency_ms: null,
      detail: "Public catalogue, no key; not probed, to stay a polite client",
    };
  }
  const started = Date.now();
  try {
    const version = await PROBES[name](config, options);
    return { name, configured: true, status: "ok", latency_ms: Date.now() - started, ...(version ? { version } : {}) };
  } catch (error) {
    const detail = error instanceof UpstreamError ? error.detail : "The probe failed";
    return { name, configured: true, status: "error", latency_ms: Date.now() - started, detail };
  }
}

/** A probe makes one attempt: a status page should show a failure now, not after retries. */
const PROBE_OPTIONS = { retries: 0 };

const PROBES: Record<
  Exclude<ServiceName, "google_books" | "audible">,
  (config: Config, options: ProbeOptions) => Promise<string | undefined>
> = {
  async audiobookshelf(config) {
    const settings = config.integrations.audiobookshelf;
    if (!settings.configured) return undefined;
    await new Audiobookshelf(settings.settings, config.upstream, PROBE_OPTIONS).libraries();
    return undefined;
  },

  async qbittorrent(config, { qbRefusals }) {
    const integration = config.integrations.qbittorrent;
    if (!integration.configured) return undefined;
    // The client's session and its memory of a refused login: probes never log in every time, nor
    // retry a wrong password into qBittorrent's ban.
    const client = new QbittorrentClient(integration.settings, config.upstream, { ...PROBE_OPTIONS, refusals: qbRefusals });
    return (await client.version()).slice(0, 40);
  },

  async prowlarr(config) {
    const integration = config.integrations.prowlarr;
    if (!integration.configured) return undefined;
    const client = new ServiceClient({
      service: "prowlarr",
      baseUrl: integration.settings.url,
      fetcher: integration.settings.fetcher,
      upstream: config.upstream,
      authHeaders: { "X-Api-Key": integration.settings.apiKey },
      ...PROBE_OPTIONS,
    });
    return (await client.json({ path: "/api/v1/system/status" }, z.object({ version: z.string().max(40) }))).version;
  },
};
