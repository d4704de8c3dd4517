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

/**
 * A library item as ABS 2.x lists it (LibraryItem.toOldJSONMinified): the short form, authors and
 * series as strings ("A, B", "Saga #1, Other #2"). `isMissing` marks an item whose files vanished,
 * which ABS keeps listing.
 */
export function absItem(
  id: string,
  metadata: Record<string, unknown> = {},
  duration: number | null = 36_000,
  item: Record<string, unknown> = {},
) {
  return {
    id,
    ino: "649644248522215260",
    oldLibraryItemId: null,
    libraryId: "lib_books",
    folderId: "fol_1",
    path: `/audiobooks/${id}`,
    relPath: id,
    isFile: false,
    mtimeMs: 1_700_000_000_000,
    ctimeMs: 1_700_000_000_000,
    birthtimeMs: 0,
    addedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    isMissing: false,
    isInvalid: false,
    mediaType: "book",
    media: {
      id: `media_${id}`,
      metadata: {
        title: `Title ${id}`,
        titleIgnorePrefix: `Title ${id}`,
        subtitle: null,
        authorName: "Jane Author",
        authorNameLF: "Author, Jane",
        narratorName: "Ned Narrator",
        seriesName: "",
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
      numTracks: 1,
      numAudioFiles: 1,
      numChapters: 0,
      duration,
      size: 123456,
      ebookFormat: null,
    },
    numFiles: 2,
    size: 123456,
    ...item,
  };
}

/** The long form (GET /api/items/:id?expanded=1, and the listing of ABS before 2.x): authors and series as arrays. */
export function absItemExpanded(id: string, metadata: Record<string, unknown> = {}, duration: number | null = 36_000) {
  const short = absItem(id, {}, duration);
  const { authorName: _a, authorNameLF: _l, narratorName: _n, seriesName: _s, titleIgnorePrefix: _t, ...rest } = short.media.metadata;
  return {
    ...short,
    media: {
      ...short.media,
      metadata: { ...rest, authors: [{ id: "au_1", name: "Jane Author" }], narrators: ["Ned Narrator"], series: [], ...metadata },
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
    const listed = limit ? library.items.slice(page * limit, (page + 1) * limit) : library.items;
    const results = listed.map((item) =>
      typeof item === "object" && item && "libraryId" in item ? { ...item, libraryId: library.id } : item,
    );
    return json({
      results,
      total: library.items.length,
      limit,
      page,
      sortBy: url.searchParams.get("sort"),
      sortDesc: false,
      filterBy: null,
      mediaType: library.mediaType ?? "book",
      minified: true,
      collapseseries: false,
      include: "",
      offset: page * limit,
    });
  });
}
