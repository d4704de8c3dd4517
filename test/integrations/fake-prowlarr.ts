import { fakeUpstream, json } from "./fake-upstream";

/** Prowlarr's bindings and its search results, as /api/v1/search answers them. */

export const PROWLARR = { PROWLARR_URL: "http://prowlarr.home.test:9696", PROWLARR_API_KEY: "1f2e3d4c5b6a79880011223344556677" };

/** A search result as Prowlarr's /api/v1/search answers it (MyAnonamouse through Prowlarr). */
export function prowlarrRelease(title: string, fields: Record<string, unknown> = {}) {
  const id = Math.floor(Math.random() * 1e6);
  return {
    guid: `https://www.myanonamouse.net/t/${id}`,
    age: 3,
    title,
    size: 512 * 1024 * 1024,
    indexerId: 4,
    indexer: "MyAnonamouse",
    seeders: 12,
    leechers: 1,
    grabs: 40,
    publishDate: "2026-11-01T10:00:00Z",
    // Prowlarr's download proxy (DownloadMappingService.ConvertToProxyLink): its own key, the
    // indexer's link encrypted and base64url-encoded, and the file name.
    downloadUrl: `${PROWLARR.PROWLARR_URL}/4/download?apikey=${PROWLARR.PROWLARR_API_KEY}&link=${btoa(`enc-${id}`).replaceAll("=", "")}&file=${encodeURIComponent(title)}`,
    infoUrl: `https://www.myanonamouse.net/t/${id}`,
    categories: [{ id: 3030, name: "Audio/Audiobook" }],
    indexerFlags: [],
    protocol: "torrent",
    ...fields,
  };
}

let mamId = 800_000;

/**
 * A MyAnonamouse release exactly as Prowlarr's native indexer builds it
 * (src/NzbDrone.Core/Indexers/Definitions/MyAnonamouse.cs in Prowlarr): the title is
 * `{title} by {first author} [{lang_code} / {filetype}]`, plus ` [VIP]`; guid and infoUrl are
 * `{BaseUrl}/t/{id}`; the download goes through Prowlarr's proxy link (carrying its key), no magnet,
 * no info hash; freeleech is `downloadVolumeFactor` 0, which the search answer also lists as the
 * `freeleech` flag.
 */
export function mamRelease(
  title: string,
  author: string,
  options: { lang?: string; filetype?: string; vip?: boolean; free?: boolean; seeders?: number; size?: number } = {},
) {
  const id = ++mamId;
  const flags = [options.lang ?? "ENG", options.filetype ?? "M4B"].filter(Boolean).join(" / ");
  const free = options.free ?? false;
  return {
    guid: `https://www.myanonamouse.net/t/${id}`,
    age: 12,
    title: `${title} by ${author}${flags ? ` [${flags}]` : ""}${options.vip ? " [VIP]" : ""}`,
    size: options.size ?? 700 * 1024 * 1024,
    files: 1,
    grabs: 120,
    indexerId: 4,
    indexer: "MyAnonamouse",
    seeders: options.seeders ?? 25,
    leechers: 1,
    publishDate: "2026-10-02T18:12:45Z",
    downloadUrl: `${PROWLARR.PROWLARR_URL}/4/download?apikey=${PROWLARR.PROWLARR_API_KEY}&link=${id}&file=${encodeURIComponent(title)}`,
    infoUrl: `https://www.myanonamouse.net/t/${id}`,
    categories: [{ id: 3030, name: "Audio/Audiobook" }],
    indexerFlags: free ? ["freeleech"] : [],
    downloadVolumeFactor: free ? 0 : 1,
    uploadVolumeFactor: 1,
    protocol: "torrent",
  };
}

export interface MamTorrent {
  title: string;
  author: string;
  options?: Parameters<typeof mamRelease>[2];
}

/**
 * Prowlarr with its MyAnonamouse indexer over a small tracker: a search matches the query's words
 * against each torrent's title and author only (`tor[srchIn][title]`, `tor[srchIn][author]`),
 * never a series, and answers the matches in Prowlarr's release shape.
 */
export function fakeMamProwlarr(torrents: MamTorrent[]) {
  const releases = torrents.map((t) => ({ torrent: t, release: mamRelease(t.title, t.author, t.options) }));
  const words = (text: string) =>
    text
      .toLowerCase()
      .replace(/['’]/g, "")
      .split(/[^a-z0-9]+/)
      .filter(Boolean);
  const queries: string[] = [];
  const fake = fakeUpstream((request, url) => {
    if (url.pathname !== "/api/v1/search") return new Response("Not Found", { status: 404 });
    if (request.headers.get("X-Api-Key") !== PROWLARR.PROWLARR_API_KEY) return json({ message: "Unauthorized" }, { status: 401 });
    const query = url.searchParams.get("query") ?? "";
    queries.push(query);
    const wanted = words(query);
    return json(
      releases
        .filter(({ torrent }) => {
          const searchable = new Set(words(`${torrent.title} ${torrent.author}`));
          return wanted.every((word) => searchable.has(word));
        })
        .map(({ release }) => release),
    );
  });
  return { ...fake, queries, releases: releases.map((r) => r.release) };
}
