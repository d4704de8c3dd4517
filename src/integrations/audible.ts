import { z } from "zod";
import type { AudibleSettings, Config, UpstreamSettings } from "../config";
import { ServiceClient, type ServiceClientOptions } from "./http";
import { parseEach, upstreamId, upstreamList, upstreamNullableText, upstreamText } from "./upstream-text";

/**
 * The Audible catalogue (public, no key; what Audiobookshelf's own Audible provider reads): a book
 * by ASIN or by title and author, a series' members in order through the series' own ASIN, and
 * an author's books. One attempt per call, no retry: every call is a subrequest of a Workers
 * invocation's budget (src/services/catalogue/), and a 429 must stop the run, not be insisted on.
 */

/** What a product answer must carry for the catalogue; the many other fields are let through. */
const PRODUCT_GROUPS = "contributors,series,product_attrs,media";
/** ASINs per `?asins=` call: the members of a long series in a few calls. */
export const ASINS_PER_CALL = 25;
/** Results of a title + author search; the first few are the relevant ones. */
const SEARCH_RESULTS = 10;
/** Results of an author's books, newest first. */
const AUTHOR_RESULTS = 50;

/**
 * Texts and lists bounded as every upstream's are (./upstream-text.ts): an ASIN is at most 20
 * characters with no control character (Audible's are 10), titles and names are cleaned and
 * clipped to the catalogue's 500, sequences to 50, a release date is a date or nothing. Lists are
 * cut to what a lookup reads; one malformed product or relationship is left out, not the answer.
 */
const ASIN = upstreamId(20);
/** Products read of one answer: more than any call asks for (ASINS_PER_CALL, SEARCH_RESULTS, AUTHOR_RESULTS). */
const PRODUCTS_READ = 50;
/** Members of one series read: longer than any series Audible lists in one region. */
const RELATIONSHIPS_READ = 1_000;
/** A position past this is no series' (a hostile "1e300" would make gap analysis count to it). */
const MAX_POSITION = 10_000;
const releaseDate = upstreamNullableText(30).transform((value) => (value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null));

const seriesRef = z.object({ asin: ASIN, title: upstreamText(500), sequence: upstreamNullableText(50) });
const product = z.object({
  asin: ASIN,
  title: upstreamNullableText(500),
  subtitle: upstreamNullableText(500),
  authors: upstreamList(z.object({ name: upstreamText(500) }), 20).nullish(),
  series: upstreamList(seriesRef, 20).nullish(),
  release_date: releaseDate,
  format_type: upstreamNullableText(50),
  language: upstreamNullableText(50),
});
type RawProduct = z.output<typeof product>;

const productsAnswer = z.object({ products: upstreamList(z.unknown(), PRODUCTS_READ) });
const relationship = z.object({
  asin: ASIN,
  relationship_to_product: upstreamText(20),
  relationship_type: upstreamText(20),
  sequence: upstreamNullableText(50),
  sort: z.union([upstreamText(20), z.number()]).nullish(),
});
const seriesAnswer = z.object({
  product: z.object({
    asin: ASIN,
    title: upstreamNullableText(500),
    relationships: upstreamList(z.unknown(), RELATIONSHIPS_READ).nullish(),
  }),
});

export interface AudibleSeriesRef {
  asin: string;
  title: string;
  /** Cleaned: "Book 1" → "1", "2, Dramatized Adaptation" → "2"; null when unnumbered. */
  sequence: string | null;
}

export interface AudibleProduct {
  asin: string;
  title: string;
  subtitle: string | null;
  authors: string[];
  series: AudibleSeriesRef[];
  /** YYYY-MM-DD, in the future for an announced book. */
  releaseDate: string | null;
  /** "unabridged" / "abridged" when Audible says. */
  formatType: string | null;
}

export interface SeriesMember {
  asin: string;
  /** Cleaned sequence, e.g. "3" or "1.5". */
  sequence: string;
}

/**
 * Audible's sequences come as "1", "1.5", "Book 1" or "2, Dramatized Adaptation": the number in it,
 * as Audiobookshelf cleans them (server/providers/Audible.js, cleanSeriesSequence); none is null.
 */
export function cleanSequence(sequence: string | null | undefined): string | null {
  const trimmed = sequence?.trim();
  if (!trimmed) return null;
  const number = /\.\d+|\d+(?:\.\d+)?/.exec(trimmed)?.[0];
  if (!number || Number(number) > MAX_POSITION) return null;
  // "01" and "1" are one position; ".5" reads as 0.5.
  return String(Number(number));
}

function toProduct(raw: RawProduct): AudibleProduct | null {
  if (!raw.title) return null;
  const authors = (raw.authors ?? []).map((author) => author.name).filter(Boolean);
  return {
    asin: raw.asin,
    title: raw.title,
    subtitle: raw.subtitle ?? null,
    authors,
    series: (raw.series ?? []).map((s) => ({ asin: s.asin, title: s.title, sequence: cleanSequence(s.sequence) })),
    releaseDate: raw.release_date ?? null,
    formatType: raw.format_type ?? null,
  };
}

/**
 * A series' members in order, one edition per position: Audible lists each edition (the
 * dramatized adaptation, a re-recording) as its own child at the same sequence; the first in
 * Audible's `sort` order whose raw sequence is the plain number is kept, else the first.
 */
export function membersOf(relationships: z.output<typeof relationship>[]): SeriesMember[] {
  const children = relationships
    .filter((r) => r.relationship_to_product === "child" && r.relationship_type === "series")
    .map((r, index) => ({ ...r, clean: cleanSequence(r.sequence), order: Number(r.sort ?? index) || index }))
    .sort((a, b) => a.order - b.order);
  const byPosition = new Map<string, (typeof children)[number]>();
  for (const child of children) {
    if (child.clean === null) continue;
    const held = byPosition.get(child.clean);
    const plain = child.sequence?.trim() === child.clean;
    if (!held || (plain && held.sequence?.trim() !== held.clean)) byPosition.set(child.clean, child);
  }
  return [...byPosition.values()].sort((a, b) => Number(a.clean) - Number(b.clean)).map((c) => ({ asin: c.asin, sequence: c.clean! }));
}

export class AudibleCatalogue {
  private readonly http: ServiceClient;
  /** Calls made by this client: each one is a subrequest of the invocation. */
  calls = 0;

  constructor(settings: AudibleSettings, upstream: UpstreamSettings, options: Partial<ServiceClientOptions> = {}) {
    this.http = new ServiceClient({ service: "audible", baseUrl: settings.url, upstream, retries: 0, ...options });
  }

  private get(path: string, query: Record<string, string | number>, accept: number[] = []) {
    this.calls++;
    return this.http.request({ path, query, accept });
  }

  /**
   * A book by its ASIN (as Audiobookshelf gives it), or null when Audible does not know it: the live
   * API answers such an ASIN (unknown, or not sold in this region) with a 200 stub without a title;
   * a 404 counts the same.
   */
  async product(asin: string): Promise<AudibleProduct | null> {
    const path = `/1.0/catalog/products/${encodeURIComponent(asin)}`;
    const request = { path, query: { response_groups: PRODUCT_GROUPS } };
    const response = await this.get(path, request.query, [404]);
    if (response.status === 404) return null;
    const answer = this.http.parse(response, z.object({ product }), request);
    return toProduct(answer.product);
  }

  /** Books matching a title and an author, most relevant first. */
  async search(title: string, author: string | null): Promise<AudibleProduct[]> {
    const query: Record<string, string | number> = {
      title,
      num_results: SEARCH_RESULTS,
      products_sort_by: "Relevance",
      response_groups: PRODUCT_GROUPS,
    };
    if (author) query.author = author;
    return this.products(query);
  }

  /**
   * Books matching free words (a title, an author, or both), most relevant first: the catalogue's
   * `keywords` search, as the request apps send a person's search box.
   */
  async keywords(words: string): Promise<AudibleProduct[]> {
    return this.products({ keywords: words, num_results: SEARCH_RESULTS, products_sort_by: "Relevance", response_groups: PRODUCT_GROUPS });
  }

  /** An author's books, newest first (released and announced). */
  async byAuthor(author: string): Promise<AudibleProduct[]> {
    return this.products({ author, num_results: AUTHOR_RESULTS, products_sort_by: "-ReleaseDate", response_groups: PRODUCT_GROUPS });
  }

  /** Several books by ASIN, up to ASINS_PER_CALL, in one call. */
  async productsByAsin(asins: readonly string[]): Promise<AudibleProduct[]> {
    if (asins.length === 0) return [];
    return this.products({ asins: asins.slice(0, ASINS_PER_CALL).join(","), response_groups: PRODUCT_GROUPS });
  }

  /** A series' members in order (by the series' own ASIN), or null when Audible does not know it. */
  async seriesMembers(seriesAsin: string): Promise<SeriesMember[] | null> {
    const path = `/1.0/catalog/products/${encodeURIComponent(seriesAsin)}`;
    const request = { path, query: { response_groups: "relationships" } };
    const response = await this.get(path, request.query, [404]);
    if (response.status === 404) return null;
    const answer = this.http.parse(response, seriesAnswer, request);
    // An ASIN Audible has no product for is a 200 stub without a title (test/integrations/fake-audible.ts).
    if (!answer.product.title && !answer.product.relationships) return null;
    return membersOf(parseEach(answer.product.relationships ?? [], relationship, RELATIONSHIPS_READ).items);
  }

  private async products(query: Record<string, string | number>): Promise<AudibleProduct[]> {
    const path = "/1.0/catalog/products";
    const response = await this.get(path, query);
    const answer = this.http.parse(response, productsAnswer, { path, query });
    return parseEach(answer.products, product, PRODUCTS_READ)
      .items.map(toProduct)
      .filter((p): p is AudibleProduct => p !== null);
  }
}

/** The client for this configuration: the catalogue is public, so it is always configured. */
export function audible(config: Config, options: Partial<ServiceClientOptions> = {}): AudibleCatalogue {
  const integration = config.integrations.audible;
  const settings = integration.configured ? integration.settings : { url: "https://api.audible.com" };
  return new AudibleCatalogue(settings, config.upstream, options);
}
