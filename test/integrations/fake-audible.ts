import { fakeUpstream, json } from "./fake-upstream";

/**
 * A fake Audible catalogue answering as the real one does (INTEGRATIONS.md section 6, and
 * Audiobookshelf's server/providers/Audible.js, which reads it):
 * - `GET /1.0/catalog/products/{asin}?response_groups=…` → `{product: {asin, title, authors, series:
 *   [{asin, title, sequence}], release_date, …}, response_groups}`; a series' own ASIN with
 *   `response_groups=relationships` → `{product: {asin, title, relationships: [{asin,
 *   relationship_to_product: "child", relationship_type: "series", sequence, sort}]}}`;
 * - `GET /1.0/catalog/products?title=&author=&num_results=&products_sort_by=&response_groups=` and
 *   `?asins=a,b,c` → `{products: [...], response_groups, total_results}`; `?keywords=` matches its
 *   words against the title and the authors together;
 * - an ASIN Audible has no product for (unknown, or not sold in this region) → 200 with a stub of
 *   three fields and no title, `{product: {asin, asset_details: [], is_vvab: false}, response_groups:
 *   ["always-returned"]}`, as captured from the live API by other clients (Listenarr's
 *   AudibleProductMapperStubTests; audnexus's ApiHelper reads a product without
 *   content_delivery_type as "not available in this region"); in `?asins=` such an ASIN is listed
 *   as that stub too (not checked against a capture: the client leaves out a product without a
 *   title either way). `unknownAsin: "404"` answers a bare 404 instead (what a wrong path gets), as an
 *   extra case.
 * Sequences come as Audible writes them ("1", "Book 2", "2, Dramatized Adaptation", "1.5").
 */
export const AUDIBLE_URL = "https://api.audible.fake.test";

export interface FakeBook {
  asin: string;
  title: string;
  author: string;
  /** Series' ASIN and the raw sequence Audible gives. */
  series?: { asin: string; sequence: string }[];
  release_date?: string;
  format_type?: "unabridged" | "abridged";
}

export interface FakeSeries {
  asin: string;
  title: string;
}

export interface FakeAudibleOptions {
  /** Answer 429 (with Retry-After) from the n-th call on (1-based). */
  rateLimitFrom?: number;
  /** How an ASIN without a product is answered: Audible's 200 stub (default), or a 404. */
  unknownAsin?: "stub" | "404";
}

/** What Audible answers for an ASIN it has no product for: 200, three fields, no title. */
export function unknownProduct(asin: string) {
  return { asin, asset_details: [], is_vvab: false };
}

function productOf(book: FakeBook, series: Map<string, FakeSeries>) {
  return {
    asin: book.asin,
    title: book.title,
    subtitle: null,
    authors: [{ asin: `A${book.author.length}XYZ`, name: book.author }],
    narrators: [{ name: "Michael Kramer" }, { name: "Kate Reading" }],
    series: (book.series ?? []).map((s) => ({
      asin: s.asin,
      title: series.get(s.asin)?.title ?? "?",
      sequence: s.sequence,
      url: `/pd/${s.asin}`,
    })),
    release_date: book.release_date ?? "2014-03-04",
    runtime_length_min: 2720,
    language: "english",
    format_type: book.format_type ?? "unabridged",
    content_delivery_type: "SinglePartBook",
    publisher_name: "Macmillan Audio",
  };
}

const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
const contains = (haystack: string, needle: string) => {
  const all = new Set(words(haystack));
  return words(needle).every((word) => all.has(word));
};

export function fakeAudible(books: FakeBook[], seriesList: FakeSeries[], options: FakeAudibleOptions = {}) {
  const series = new Map(seriesList.map((s) => [s.asin, s]));
  const byAsin = new Map(books.map((b) => [b.asin, b]));
  let n = 0;
  const fake = fakeUpstream((_, url) => {
    n++;
    if (options.rateLimitFrom !== undefined && n >= options.rateLimitFrom) {
      return json({ message: "Rate exceeded" }, { status: 429, headers: { "Retry-After": "60" } });
    }
    const groups = (url.searchParams.get("response_groups") ?? "").split(",").filter(Boolean);
    const one = /^\/1\.0\/catalog\/products\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const asin = decodeURIComponent(one[1]!);
      const s = series.get(asin);
      if (s) {
        const children = books.flatMap((b) =>
          (b.series ?? []).filter((ref) => ref.asin === asin).map((ref) => ({ asin: b.asin, sequence: ref.sequence })),
        );
        const relationships = groups.includes("relationships")
          ? children.map((c, i) => ({
              asin: c.asin,
              relationship_to_product: "child",
              relationship_type: "series",
              sequence: c.sequence,
              sort: String(i + 1),
              url: `/pd/${c.asin}`,
            }))
          : undefined;
        return json({ product: { asin, title: s.title, ...(relationships ? { relationships } : {}) }, response_groups: groups });
      }
      const book = byAsin.get(asin);
      if (!book) {
        if (options.unknownAsin === "404") return json({ message: "Not Found" }, { status: 404 });
        return json({ product: unknownProduct(asin), response_groups: ["always-returned"] });
      }
      return json({ product: productOf(book, series), response_groups: groups });
    }
    if (url.pathname === "/1.0/catalog/products") {
      const asins = url.searchParams.get("asins");
      if (asins) {
        const listed = asins.split(",").map((a) => ({ asin: a, book: byAsin.get(a) }));
        return json({
          products: listed.map(({ asin, book }) => (book ? productOf(book, series) : unknownProduct(asin))),
          response_groups: ["always-returned", ...groups],
          total_results: listed.length,
        });
      }
      const title = url.searchParams.get("title");
      const author = url.searchParams.get("author");
      const keywords = url.searchParams.get("keywords");
      let found = books.filter(
        (b) =>
          (!title || contains(b.title, title)) &&
          (!author || contains(b.author, author)) &&
          (!keywords || contains(`${b.title} ${b.author}`, keywords)),
      );
      if (url.searchParams.get("products_sort_by") === "-ReleaseDate") {
        found = [...found].sort((a, b) => (b.release_date ?? "").localeCompare(a.release_date ?? ""));
      }
      found = found.slice(0, Number(url.searchParams.get("num_results") ?? 10));
      return json({ products: found.map((b) => productOf(b, series)), response_groups: groups, total_results: found.length });
    }
    return json({ message: "Not found" }, { status: 404 });
  });
  return { ...fake, count: () => n };
}

// A catalogue of real shapes: the Stormlight Archive with its novellas, a second edition at one
// position, and an announced book.
export const STORMLIGHT = { asin: "B00SERIES1", title: "The Stormlight Archive" };
export const MISTBORN = { asin: "B00SERIES2", title: "Mistborn" };
export const SANDERSON = "Brandon Sanderson";

export const CATALOGUE_BOOKS: FakeBook[] = [
  { asin: "B003ZWFO7E", title: "The Way of Kings", author: SANDERSON, series: [{ asin: STORMLIGHT.asin, sequence: "1" }] },
  { asin: "B00DA6YEKS", title: "Words of Radiance", author: SANDERSON, series: [{ asin: STORMLIGHT.asin, sequence: "Book 2" }] },
  {
    asin: "B0DRAMATIZ",
    title: "Words of Radiance (Dramatized Adaptation)",
    author: SANDERSON,
    series: [{ asin: STORMLIGHT.asin, sequence: "2, Dramatized Adaptation" }],
  },
  { asin: "B076PNXMW2", title: "Edgedancer", author: SANDERSON, series: [{ asin: STORMLIGHT.asin, sequence: "2.5" }] },
  { asin: "B0722XQ8GB", title: "Oathbringer", author: SANDERSON, series: [{ asin: STORMLIGHT.asin, sequence: "3" }] },
  {
    asin: "B08HWFLGZX",
    title: "Rhythm of War",
    author: SANDERSON,
    series: [{ asin: STORMLIGHT.asin, sequence: "4" }],
    release_date: "2020-11-17",
  },
  {
    asin: "B0CWINDTRU",
    title: "Wind and Truth",
    author: SANDERSON,
    series: [{ asin: STORMLIGHT.asin, sequence: "5" }],
    release_date: "2024-12-06",
  },
  { asin: "B002UZMLXM", title: "The Final Empire", author: SANDERSON, series: [{ asin: MISTBORN.asin, sequence: "1" }] },
  { asin: "B002V0QK4C", title: "The Well of Ascension", author: SANDERSON, series: [{ asin: MISTBORN.asin, sequence: "2" }] },
  { asin: "B002V1A0WE", title: "The Hero of Ages", author: SANDERSON, series: [{ asin: MISTBORN.asin, sequence: "3" }] },
  { asin: "B0ISLES001", title: "Isles of the Emberdark", author: SANDERSON, release_date: "2027-03-02" },
];
export const CATALOGUE_SERIES: FakeSeries[] = [STORMLIGHT, MISTBORN];
