import { z } from "zod";
import type { GoogleBooksSettings, UpstreamSettings } from "../config";
import { ServiceClient, type ServiceClientOptions } from "./http";

/**
 * Google Books API v1 (`GET {GOOGLE_BOOKS_URL}/volumes?q=...&key=KEY`): a volume search by ISBN
 * or by title and author. The key travels as the `key` parameter, which the shared client keeps
 * out of every error and log line.
 */

const volumeInfo = z.object({
  title: z.string().optional(),
  subtitle: z.string().optional(),
  authors: z.array(z.string()).optional(),
  publisher: z.string().optional(),
  // YYYY, YYYY-MM or YYYY-MM-DD
  publishedDate: z.string().optional(),
  description: z.string().optional(),
  industryIdentifiers: z.array(z.object({ type: z.string(), identifier: z.string() })).optional(),
  pageCount: z.number().optional(),
  categories: z.array(z.string()).optional(),
  language: z.string().optional(),
});
export type VolumeInfo = z.output<typeof volumeInfo>;

const volumesAnswer = z.object({
  totalItems: z.number().int().nonnegative(),
  // Absent when nothing matched.
  items: z.array(z.object({ id: z.string(), volumeInfo })).optional(),
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
