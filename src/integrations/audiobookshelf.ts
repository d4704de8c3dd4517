import { z } from "zod";
import type { AudiobookshelfSettings, UpstreamSettings } from "../config";
import { ServiceClient, type ServiceClientOptions } from "./http";
import { parseEach, upstreamId, upstreamList, upstreamNullableText, upstreamText } from "./upstream-text";

/**
 * Audiobookshelf's API, as this Worker uses it (server/routers/ApiRouter.js of advplyr/audiobookshelf):
 * an API key as `Authorization: Bearer`, the libraries, and their items page by page.
 */

/** Items per page of a library listing: big enough for few round trips, small enough to stay well within a deadline. */
export const ABS_PAGE_SIZE = 500;
/** The most of one page read (16 MB): 2.x's short items are about 2 KB each. */
const PAGE_MAX_BYTES = 16 * 1024 * 1024;
/** ABS ids are UUIDs (or `li_…` in old versions): anything longer than this is not one. */
export const ABS_ID_MAX = 100;

// Every text is cleaned and clipped to the catalogue's bounds as it arrives (./upstream-text.ts).
const nullableText = (max: number) => upstreamNullableText(max);

const library = z.object({ id: upstreamId(ABS_ID_MAX), name: upstreamText(500), mediaType: upstreamText(50) });
const librariesAnswer = z.object({ libraries: upstreamList(library, 100) });

/** The book metadata of a library item, expanded (arrays) or minified (`authorName` strings). */
const bookMetadata = z.object({
  title: nullableText(500),
  subtitle: nullableText(500),
  authors: upstreamList(z.object({ name: upstreamText(500) }), 50).optional(),
  authorName: nullableText(500),
  narrators: upstreamList(upstreamText(255), 50).optional(),
  narratorName: nullableText(255),
  series: upstreamList(z.object({ name: upstreamText(500), sequence: nullableText(50) }), 20).optional(),
  seriesName: nullableText(2_000),
  genres: upstreamList(upstreamText(100), 50).optional(),
  // Strings in ABS ("2011"); tolerated as numbers too.
  publishedYear: z.union([upstreamText(20), z.number()]).nullish(),
  publisher: nullableText(500),
  description: upstreamNullableText(20_000, { multiline: true }),
  isbn: nullableText(50),
  asin: nullableText(50),
  language: nullableText(100),
});

const libraryItem = z.object({
  id: upstreamId(ABS_ID_MAX),
  libraryId: upstreamText(ABS_ID_MAX).optional(),
  mediaType: upstreamText(50).optional(),
  // Listed, but its files are gone from disk (ABS 2.x keeps such items, with isInvalid).
  isMissing: z.boolean().optional(),
  media: z.object({
    metadata: bookMetadata,
    // Seconds; absent on items without audio.
    duration: z.number().nullish(),
  }),
});
export type AbsLibraryItem = z.output<typeof libraryItem>;

const itemsPage = z.object({
  results: z.array(z.unknown()),
  total: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative(),
  page: z.number().int().nonnegative(),
});

export type AbsLibrary = z.output<typeof library>;

export class Audiobookshelf {
  private readonly client: ServiceClient;
  readonly settings: AudiobookshelfSettings;

  constructor(settings: AudiobookshelfSettings, upstream: UpstreamSettings, options: Partial<ServiceClientOptions> = {}) {
    this.settings = settings;
    this.client = new ServiceClient({
      service: "audiobookshelf",
      baseUrl: settings.url,
      fetcher: settings.fetcher,
      upstream,
      authHeaders: { Authorization: `Bearer ${settings.token}` },
      ...options,
    });
  }

  /** Every library (the status probe calls this too: cheap, and it proves the key works). */
  async libraries(): Promise<AbsLibrary[]> {
    return (await this.client.json({ path: "/api/libraries" }, librariesAnswer)).libraries;
  }

  /** The libraries to sync: ABS_LIBRARY_ID alone, else every library of books. */
  async bookLibraries(): Promise<AbsLibrary[]> {
    const all = await this.libraries();
    if (this.settings.libraryId) return all.filter((lib) => lib.id === this.settings.libraryId);
    return all.filter((lib) => lib.mediaType === "book");
  }

  /**
   * One page (0-based) of a library's items, oldest first so pages stay put while items are added:
   * at most `limit` items whatever the answer holds, each checked alone (an item that is not one,
   * an id too long, is left out and counted as malformed).
   */
  async itemsPage(libraryId: string, page: number, limit = ABS_PAGE_SIZE) {
    const answer = await this.client.json(
      { path: `/api/libraries/${encodeURIComponent(libraryId)}/items`, query: { limit, page, sort: "addedAt" }, maxBytes: PAGE_MAX_BYTES },
      itemsPage,
    );
    const { items, malformed } = parseEach(answer.results, libraryItem, limit);
    return { ...answer, results: items, listed: Math.min(answer.results.length, limit), malformed };
  }

  /** Asks ABS to scan a library for new files (after a download completes). */
  async scan(libraryId: string): Promise<void> {
    await this.client.request({ method: "POST", path: `/api/libraries/${encodeURIComponent(libraryId)}/scan` });
  }
}
