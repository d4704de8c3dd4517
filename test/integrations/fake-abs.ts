import { fakeUpstream, json } from "./fake-upstream";

/**
 * A fake Audiobookshelf that answers as its API does (server/controllers/LibraryController.js):
 * `GET /api/libraries` → {libraries}, `GET /api/libraries/:id/items?limit&page` (page 0-based) →
 * {results, total, limit, page, ...}, 401 without the right bearer key.
 */
export const ABS_TOKEN = "abs-key-9c1f7e2d5b8a";
export const ABS_URL = "http://abs.home.test";

export interface FakeLibrary {
  id: string;
  name?: string;
  mediaType?: "book" | "podcast";
  items: unknown[];
}

/** A library item, expanded (the default of /items), with ABS's own field names and types. */
export function absItem(id: string, metadata: Record<string, unknown> = {}, duration: number | null = 36_000) {
  return {
    id,
    ino: "649644248522215260",
    libraryId: "lib_books",
    mediaType: "book",
    addedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    isMissing: false,
    media: {
      id: `media_${id}`,
      metadata: {
        title: `Title ${id}`,
        subtitle: null,
        authors: [{ id: "au_1", name: "Jane Author" }],
        narrators: ["Ned Narrator"],
        series: [],
        genres: ["Fantasy"],
        publishedYear: "2011",
        publishedDate: null,
        publisher: "Tor",
        description: "A book.",
        isbn: null,
        asin: null,
        language: "English",
        explicit: false,
        abridged: false,
        ...metadata,
      },
      coverPath: null,
      tags: [],
      duration,
      size: 123456,
    },
  };
}

export interface FakeAbsOptions {
  /** Answer this instead for a page (by library id and 0-based page). */
  page?: (libraryId: string, page: number) => Response | undefined;
}

export function fakeAbs(libraries: FakeLibrary[], options: FakeAbsOptions = {}) {
  return fakeUpstream((request, url) => {
    if (url.origin !== ABS_URL) return new Response("unknown host", { status: 502 });
    if (request.headers.get("Authorization") !== `Bearer ${ABS_TOKEN}`) return new Response("Unauthorized", { status: 401 });
    if (url.pathname === "/api/libraries") {
      return json({
        libraries: libraries.map((lib) => ({
          id: lib.id,
          name: lib.name ?? lib.id,
          mediaType: lib.mediaType ?? "book",
          folders: [],
          displayOrder: 1,
        })),
      });
    }
    const match = /^\/api\/libraries\/([^/]+)\/items$/.exec(url.pathname);
    const library = match && libraries.find((lib) => lib.id === decodeURIComponent(match[1]!));
    if (!library) return new Response("Not Found", { status: 404 });
    const limit = Number(url.searchParams.get("limit") ?? 0);
    const page = Number(url.searchParams.get("page") ?? 0);
    const override = options.page?.(library.id, page);
    if (override) return override;
    const results = limit ? library.items.slice(page * limit, (page + 1) * limit) : library.items;
    return json({
      results,
      total: library.items.length,
      limit,
      page,
      sortBy: url.searchParams.get("sort"),
      sortDesc: false,
      filterBy: null,
      mediaType: library.mediaType ?? "book",
      minified: false,
      collapseseries: false,
      include: "",
      offset: page * limit,
    });
  });
}
