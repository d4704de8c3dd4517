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
