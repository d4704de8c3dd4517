import { z } from "zod";
import type { AudiobookshelfSettings, UpstreamSettings } from "../config";
import { ServiceClient, type ServiceClientOptions } from "./http";

/**
 * Audiobookshelf's API, as this Worker uses it (server/routers/ApiRouter.js of advplyr/audiobookshelf):
 * an API key as `Authorization: Bearer`, the libraries, and their items page by page.
 */

/** Items per page of a library listing: big enough for few round trips, small enough to stay well within a deadline. */
export const ABS_PAGE_SIZE = 500;

const nullableText = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

const library = z.object({ id: z.string(), name: z.string(), mediaType: z.string() });
const librariesAnswer = z.object({ libraries: z.array(library) });

/** The book metadata of a library item, expanded (arrays) or minified (`authorName` strings). */
const bookMetadata = z.object({
  title: nullableText,
  subtitle: nullableText,
  authors: z.array(z.object({ name: z.string() })).optional(),
  authorName: nullableText,
  narrators: z.array(z.string()).optional(),
  narratorName: nullableText,
  series: z.array(z.object({ name: z.string(), sequence: nullableText })).optional(),
  seriesName: nullableText,
  genres: z.array(z.string()).optional(),
  // Strings in ABS ("2011"); tolerated as numbers too.
  publishedYear: z.union([z.string(), z.number()]).nullish(),
  publisher: nullableText,
  description: nullableText,
  isbn: nullableText,
  asin: nullableText,
  language: nullableText,
});

const libraryItem = z.object({
  id: z.string(),
  libraryId: z.string().optional(),
  mediaType: z.string().optional(),
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
  results: z.array(libraryItem),
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

  /** One page (0-based) of a library's items, oldest first so pages stay put while items are added. */
  async itemsPage(libraryId: string, page: number, limit = ABS_PAGE_SIZE) {
    return this.client.json(
      { path: `/api/libraries/${encodeURIComponent(libraryId)}/items`, query: { limit, page, sort: "addedAt" } },
      itemsPage,
    );
  }

  /** Asks ABS to scan a library for new files (after a download completes). */
  async scan(libraryId: string): Promise<void> {
    await this.client.request({ method: "POST", path: `/api/libraries/${encodeURIComponent(libraryId)}/scan` });
  }
}
