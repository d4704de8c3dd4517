// Fake Audiobookshelf, Prowlarr, qBittorrent, Google Books and the Audible catalogue for the browser test: one small HTTP server each on
// 127.0.0.1, answering the documented shapes (as
// src/integrations/ expects them) and refusing calls without the right credential, as the real
// services do. The Worker under `wrangler dev` reaches them over loopback.
import { createServer } from "node:http";

export const CREDENTIALS = {
  absToken: "fake-abs-token",
  googleBooksKey: "fake-google-books-key",
  prowlarrKey: "fake-prowlarr-key",
  qbUser: "admin",
  qbPassword: "fake-qb-password",
};

/**
 * The ABS library: two series, The Expanse with books 1-2 of 4 and Discworld 1-2 of 2. Listed in the
 * short form ABS 2.x sends by default (LibraryItem.toOldJSONMinified): authors and series as strings
 * ("Name #sequence"), as test/integrations/fake-abs.ts lists them for the unit tests.
 */
export const LIBRARY_BOOKS = [
  ["li_exp1", "Leviathan Wakes", "James S. A. Corey", "Corey, James S. A.", "The Expanse", "1", "9780316129084"],
  ["li_exp2", "Caliban's War", "James S. A. Corey", "Corey, James S. A.", "The Expanse", "2", "9780316129060"],
  ["li_dw1", "The Colour of Magic", "Terry Pratchett", "Pratchett, Terry", "Discworld", "1", "9780062225672"],
  ["li_dw2", "The Light Fantastic", "Terry Pratchett", "Pratchett, Terry", "Discworld", "2", "9780062225689"],
].map(([id, title, author, authorLF, series, sequence, isbn]) => ({ id, title, author, authorLF, series, sequence, isbn }));

const LIBRARY = LIBRARY_BOOKS.map(({ id, title, author, authorLF, series, sequence, isbn }) => ({
  id,
  ino: `6496442485222152${id.length}`,
  oldLibraryItemId: null,
  libraryId: "lib_main",
  folderId: "fol_main",
  path: `/audiobooks/${id}`,
  relPath: id,
  isFile: false,
  mtimeMs: 1795900000000,
  ctimeMs: 1795900000000,
  birthtimeMs: 0,
  addedAt: 1795900000000,
  updatedAt: 1795900000000,
  isMissing: false,
  isInvalid: false,
  mediaType: "book",
  media: {
    id: `media_${id}`,
    metadata: {
      title,
      titleIgnorePrefix: title.replace(/^The /, ""),
      subtitle: null,
      authorName: author,
      authorNameLF: authorLF,
      narratorName: "",
      seriesName: `${series} #${sequence}`,
      genres: ["Fiction"],
      publishedYear: "2011",
      publishedDate: null,
      publisher: "Orbit",
      description: null,
      isbn,
      asin: null,
      language: "English",
      explicit: false,
      abridged: false,
    },
    coverPath: null,
    tags: [],
    numTracks: 1,
    numAudioFiles: 1,
    numChapters: 0,
    duration: 72000,
    size: 512000000,
    ebookFormat: null,
  },
  numFiles: 2,
  size: 512000000,
}));

const MB = 1024 * 1024;
/** Prowlarr's answers to any search for The Expanse: book 3 alone, and an omnibus pack (no book 4). */
function searchResults(query) {
  if (!/expanse/i.test(query)) return [];
  const release = (guid, title, size, seeders, freeleech, infoHash) => ({
    guid,
    title,
    size,
    indexer: "MyAnonamouse",
    indexerId: 1,
    seeders,
    leechers: 1,
    grabs: 40,
    publishDate: "2024-05-01T00:00:00Z",
    downloadUrl: `http://127.0.0.1/prowlarr/download/${guid}`,
    magnetUrl: `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(title)}`,
    infoHash,
    infoUrl: null,
    categories: [{ id: 3030, name: "Audio/Audiobook" }],
    indexerFlags: freeleech ? ["freeleech"] : [],
    protocol: "torrent",
  });
  return [
    release(
      "mam-1001",
      "James S. A. Corey - The Expanse 03 - Abaddon's Gate [M4B]",
      640 * MB,
      25,
      true,
      "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    ),
    release("mam-1002", "The Expanse Books 1-9 Complete Series Omnibus", 21000 * MB, 80, false, "b1b2c3d4e5f60718293a4b5c6d7e8f9012345678"),
  ];
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function text(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "text/plain", ...headers });
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function listen(handler) {
  const calls = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    calls.push(`${req.method} ${url.pathname}`);
    try {
      await handler(req, res, url);
    } catch (error) {
      text(res, 500, String(error));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, calls, url: `http://127.0.0.1:${server.address().port}` })),
  );
}

function audiobookshelf() {
  return listen((req, res, url) => {
    if (req.headers.authorization !== `Bearer ${CREDENTIALS.absToken}`) return text(res, 401, "Unauthorized");
    if (url.pathname === "/api/libraries")
      return json(res, 200, { libraries: [{ id: "lib_main", name: "Audiobooks", mediaType: "book" }] });
    if (url.pathname === "/api/libraries/lib_main/items") {
      const limit = Number(url.searchParams.get("limit") || LIBRARY.length);
      const page = Number(url.searchParams.get("page") || 0);
      return json(res, 200, { results: LIBRARY.slice(page * limit, page * limit + limit), total: LIBRARY.length, limit, page });
    }
    if (req.method === "POST" && url.pathname === "/api/libraries/lib_main/scan") return text(res, 200, "OK");
    return text(res, 404, "Not Found");
  });
}

function prowlarr() {
  return listen((req, res, url) => {
    if (req.headers["x-api-key"] !== CREDENTIALS.prowlarrKey) return json(res, 401, { message: "Unauthorized" });
    if (url.pathname === "/api/v1/system/status") return json(res, 200, { appName: "Prowlarr", version: "1.30.2.4939" });
    if (url.pathname === "/api/v1/search") return json(res, 200, searchResults(url.searchParams.get("query") ?? ""));
    return json(res, 404, { message: "NotFound" });
  });
}

/** qBittorrent before 5.2: a login cookie; torrents it was given report 42 % done. */
function qbittorrent() {
  const torrents = new Map();
  const sid = "fakesid0123456789";
  return listen(async (req, res, url) => {
    if (url.pathname === "/api/v2/auth/login") {
      const form = new URLSearchParams(await readBody(req));
      if (form.get("username") !== CREDENTIALS.qbUser || form.get("password") !== CREDENTIALS.qbPassword) return text(res, 200, "Fails.");
      return text(res, 200, "Ok.", { "Set-Cookie": `SID=${sid}; HttpOnly; path=/` });
    }
    if (!(req.headers.cookie ?? "").includes(`SID=${sid}`)) return text(res, 403, "Forbidden");
    if (url.pathname === "/api/v2/app/version") return text(res, 200, "v5.0.1");
    if (url.pathname === "/api/v2/torrents/add") {
      // The API sends the add urlencoded (src/integrations/qbittorrent.ts), as qBittorrent reads it.
      const body = (req.headers["content-type"] ?? "").includes("urlencoded")
        ? (new URLSearchParams(await readBody(req)).get("urls") ?? "")
        : await readBody(req);
      const magnet = body.match(/xt=urn:btih:([0-9a-fA-F]{40})/);
      const hash = (magnet?.[1] ?? `c${String(torrents.size).padStart(39, "0")}`).toLowerCase();
      torrents.set(hash, {
        hash,
        name: `torrent ${hash.slice(0, 6)}`,
        state: "downloading",
        progress: 0.42,
        dlspeed: 1_200_000,
        eta: 600,
        amount_left: 300 * MB,
        completion_on: -1,
        content_path: "",
        tags: "mamcrawler",
        category: "audiobooks",
      });
      return text(res, 200, "Ok.");
    }
    if (url.pathname === "/api/v2/torrents/info") {
      const wanted = (url.searchParams.get("hashes") ?? "").toLowerCase().split("|").filter(Boolean);
      const list = [...torrents.values()].filter((t) => wanted.length === 0 || wanted.includes(t.hash));
      return json(res, 200, list);
    }
    return text(res, 404, "Not Found");
  });
}

/** Google Books: one volume, found by Leviathan Wakes' ISBN; the key comes as the `key` parameter. */
function googleBooks() {
  return listen((_req, res, url) => {
    if (url.searchParams.get("key") !== CREDENTIALS.googleBooksKey)
      return json(res, 400, { error: { code: 400, message: "API key not valid. Please pass a valid API key." } });
    if (!url.pathname.endsWith("/volumes")) return json(res, 404, { error: { code: 404, message: "Not Found" } });
    if (url.searchParams.get("q") !== "isbn:9780316129084") return json(res, 200, { kind: "books#volumes", totalItems: 0 });
    return json(res, 200, {
      kind: "books#volumes",
      totalItems: 1,
      items: [
        {
          id: "gb-lw",
          volumeInfo: {
            title: "Leviathan Wakes",
            authors: ["James S. A. Corey"],
            publisher: "Orbit",
            publishedDate: "2011-06-15",
            description: "Humanity has colonized the solar system.",
            industryIdentifiers: [
              { type: "ISBN_13", identifier: "9780316129084" },
              { type: "ISBN_10", identifier: "0316129089" },
            ],
            pageCount: 592,
            categories: ["Fiction"],
            language: "en",
          },
        },
      ],
    });
  });
}

/** The Audible catalogue (public, no key): The Expanse by keywords or by ASIN, as src/integrations/audible.ts reads it. */
export const CATALOGUE = [
  ["B0EXPANSE1", "Leviathan Wakes", "1"],
  ["B0EXPANSE3", "Abaddon's Gate", "3"],
  ["B0EXPANSE4", "Cibola Burn", "4"],
].map(([asin, title, sequence]) => ({
  asin,
  title,
  subtitle: null,
  authors: [{ asin: "B001JP7TTW", name: "James S. A. Corey" }],
  narrators: [{ name: "Jefferson Mays" }],
  series: [{ asin: "B0EXPANSES", title: "The Expanse", sequence }],
  release_date: "2014-06-17",
  runtime_length_min: 1200,
  language: "english",
  format_type: "unabridged",
}));

function audible() {
  return listen((_req, res, url) => {
    const one = /^\/1\.0\/catalog\/products\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const product = CATALOGUE.find((p) => p.asin === decodeURIComponent(one[1]));
      if (!product) return json(res, 404, { message: "Requested product doesn't exist", error_code: "000307" });
      return json(res, 200, { product, response_groups: ["contributors", "series", "product_attrs", "media"] });
    }
    if (url.pathname !== "/1.0/catalog/products") return json(res, 404, { message: "Not found" });
    const words = (url.searchParams.get("keywords") ?? "")
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
    const products = CATALOGUE.filter((p) => {
      const text = `${p.title} ${p.authors[0].name} ${p.series[0].title}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    return json(res, 200, { products, response_groups: ["contributors"], total_results: products.length });
  });
}

/** Starts the fakes; answers their base URLs, the calls each received, and a stop(). */
export async function startFakeUpstreams() {
  const [abs, prowl, qb, google, catalogue] = await Promise.all([audiobookshelf(), prowlarr(), qbittorrent(), googleBooks(), audible()]);
  return {
    abs,
    prowlarr: prowl,
    qbittorrent: qb,
    googleBooks: google,
    audible: catalogue,
    stop: () => Promise.all([abs, prowl, qb, google, catalogue].map(({ server }) => new Promise((resolve) => server.close(resolve)))),
  };
}
