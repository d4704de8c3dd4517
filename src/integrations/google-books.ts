import { z } from "zod";
import type { GoogleBooksSettings, UpstreamSettings } from "../config";
import { ServiceClient, type ServiceClientOptions } from "./http";
import { upstreamList, upstreamText } from "./upstream-text";

/**
 * Google Books API v1 (`GET {GOOGLE_BOOKS_URL}/volumes?q=...&key=KEY`): a volume search by ISBN
 * or by title and author. The key travels as the `key` parameter, which the shared client keeps
 * out of every error and log line.
 */

/** Texts cleaned and clipped to the catalogue's bounds as they arrive (./upstream-text.ts). */
const volumeInfo = z.object({
  title: upstreamText(500).optional(),
  subtitle: upstreamText(500).optional(),
  authors: upstreamList(upstreamText(500), 20).optional(),
  publisher: upstreamText(500).optional(),
  // YYYY, YYYY-MM or YYYY-MM-DD
  publishedDate: upstreamText(30).optional(),
  description: upstreamText(20_000, { multiline: true }).optional(),
  industryIdentifiers: upstreamList(z.object({ type: upstreamText(30), identifier: upstreamText(50) }), 10).optional(),
  pageCount: z.number().optional(),
  categories: upstreamList(upstreamText(100), 20).optional(),
  language: upstreamText(20).optional(),
});
export type VolumeInfo = z.output<typeof volumeInfo>;

const volumesAnswer = z.object({
  totalItems: z.number().int().nonnegative(),
  // Absent when nothing matched.
  items: upstreamList(z.object({ id: upstreamText(100), volumeInfo }), 10).optional(),
});

export interface Volume {
  id: string;
  info: VolumeInfo;
}

export class GoogleBooks {
  private readonly client: ServiceClient;

  constructor(settings: GoogleBooksSettings, upstream: UpstreamSettings, options: Partial<ServiceClientOptions> = {}) {
    this.client = new ServiceClient({
      service: "google_books",
      baseUrl: settings.url,
      upstream,
      authQuery: { key: settings.apiKey },
      ...options,
    });
  }

  /** Up to 5 volumes for `q` (`isbn:...`, or `intitle:... inauthor:...`), best first as Google ranks them. */
  async volumes(q: string): Promise<Volume[]> {
    const answer = await this.client.json({ path: "/volumes", query: { q, maxResults: 5, printType: "books" } }, volumesAnswer);
    return (answer.items ?? []).map((item) => ({ id: item.id, info: item.volumeInfo }));
  }
}
