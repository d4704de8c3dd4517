import { z } from "zod";
import { type Config, type ProwlarrSettings, requireService } from "../config";
import type { Release } from "../services/releases";
import { ServiceClient, type UpstreamRequest } from "./http";
import { parseEach, upstreamList, upstreamNullableText, upstreamText } from "./upstream-text";

/**
 * Prowlarr API v1 over the shared HTTP helper: a search in the audiobook category (Newznab 3030)
 * across its indexers (MyAnonamouse among them), answered as the releases the ranking reads
 * (src/services/releases.ts). `X-Api-Key` authenticates every call.
 */

export const AUDIOBOOK_CATEGORY = 3030;
const SEARCH_LIMIT = 100;

/**
 * One search result; fields this service does not read are let through unchecked. Texts are
 * cleaned and clipped to where they land (./upstream-text.ts): the title and indexer in a
 * download, the guid in its metadata. Links are judged by src/services/downloads/links.ts.
 */
const releaseSchema = z.object({
  guid: upstreamText(2_048).pipe(z.string().min(1)),
  title: upstreamText(500).pipe(z.string().min(1)),
  size: z.number().nonnegative().optional().default(0),
  indexer: upstreamNullableText(80),
  seeders: z.number().nullish(),
  downloadUrl: z.string().nullish(),
  magnetUrl: z.string().nullish(),
  infoHash: upstreamNullableText(100),
  protocol: z.union([upstreamText(20), z.number()]).nullish(),
  // Strings ("freeleech") in the API's JSON; an object or number from other versions is tolerated.
  indexerFlags: upstreamList(z.unknown(), 20).nullish(),
  downloadVolumeFactor: z.number().nullish(),
});

function isFreeleech(item: z.output<typeof releaseSchema>): boolean {
  if (item.downloadVolumeFactor === 0) return true;
  return (item.indexerFlags ?? []).some((flag) => {
    const name =
      typeof flag === "string" ? flag : typeof flag === "object" && flag && "name" in flag ? String((flag as { name: unknown }).name) : "";
    return /freeleech/i.test(name);
  });
}

function toRelease(item: z.output<typeof releaseSchema>): Release {
  return {
    guid: item.guid,
    title: item.title,
    size: item.size,
    // A count: a fractional or negative one from an odd indexer reads as its whole part, at least 0.
    seeders: Math.max(0, Math.trunc(item.seeders ?? 0)),
    indexer: item.indexer ?? null,
    freeleech: isFreeleech(item),
    // Prowlarr's DownloadProtocol: "torrent" / "usenet" in JSON (1 / 2 as numbers in old builds).
    protocol:
      typeof item.protocol === "number"
        ? item.protocol === 1
          ? "usenet"
          : item.protocol === 2
            ? "torrent"
            : "unknown"
        : (item.protocol ?? null),
    downloadUrl: item.downloadUrl ?? null,
    magnetUrl: item.magnetUrl ?? null,
    infoHash: item.infoHash ? item.infoHash.toLowerCase() : null,
  };
}

export interface SearchResult {
  releases: Release[];
  /** Results that were not releases (missing guid or title): left out, counted. */
  malformed: number;
}

export class ProwlarrClient {
  private readonly http: ServiceClient;

  constructor(settings: ProwlarrSettings, upstream: Config["upstream"]) {
    this.http = new ServiceClient({
      service: "prowlarr",
      baseUrl: settings.url,
      upstream,
      // Through the Workers VPC binding when one is bound (PROWLARR_VPC), else the internet.
      fetcher: settings.fetcher,
      authHeaders: { "X-Api-Key": settings.apiKey },
    });
  }

  /** `{version, ...}` of GET /api/v1/system/status. */
  async version(): Promise<string> {
    const status = await this.http.json({ path: "/api/v1/system/status" }, z.object({ version: z.string() }));
    return status.version;
  }

  /**
   * Audiobook releases for `query`. An answer that is not a JSON array is an upstream error (502);
   * single results that are not releases are dropped and counted, so one odd indexer does not
   * hide the others'.
   */
  async search(query: string, limit = SEARCH_LIMIT): Promise<SearchResult> {
    const request: UpstreamRequest = { path: "/api/v1/search", query: { query, type: "search", categories: AUDIOBOOK_CATEGORY, limit } };
    const answer = await this.http.json(request, z.array(z.unknown()));
    // No more than asked for, whatever the answer holds.
    const { items, malformed } = parseEach(answer, releaseSchema, limit);
    return { releases: items.map(toRelease), malformed };
  }
}

/** The client for this configuration, or a 503 naming the bindings to set. */
export function prowlarr(config: Config): ProwlarrClient {
  return new ProwlarrClient(requireService(config, "prowlarr"), config.upstream);
}
