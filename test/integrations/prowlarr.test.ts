import { afterEach, describe, expect, it, vi } from "vitest";
import { UpstreamError } from "../../src/integrations/http";
import { prowlarr } from "../../src/integrations/prowlarr";
import { mamRelease, PROWLARR, prowlarrRelease } from "./fake-prowlarr";
import { configWith } from "./fake-qbittorrent";
import { fakeUpstream, fakeVpcBinding, json } from "./fake-upstream";

afterEach(() => vi.restoreAllMocks());

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe("Prowlarr search", () => {
  it("searches the audiobook category with the key in X-Api-Key, and reads the releases", async () => {
    const fake = fakeUpstream(() =>
      json([
        prowlarrRelease("Dune by Frank Herbert [ENG / M4B]", {
          indexerFlags: ["freeleech"],
          infoHash: "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
        }),
        prowlarrRelease("Dune by Frank Herbert [ENG / MP3]", { downloadVolumeFactor: 0, seeders: null }),
      ]),
    );
    const result = await prowlarr(configWith(PROWLARR)).search("Dune Herbert");
    const call = fake.calls[0]!;
    expect(call.url.pathname).toBe("/api/v1/search");
    expect(Object.fromEntries(call.url.searchParams)).toEqual({ query: "Dune Herbert", type: "search", categories: "3030", limit: "100" });
    expect(call.headers.get("X-Api-Key")).toBe(PROWLARR.PROWLARR_API_KEY);
    expect(result.malformed).toBe(0);
    expect(result.releases[0]).toMatchObject({
      title: "Dune by Frank Herbert [ENG / M4B]",
      freeleech: true,
      seeders: 12,
      protocol: "torrent",
      infoHash: "abcdef0123456789abcdef0123456789abcdef01",
      indexer: "MyAnonamouse",
    });
    expect(result.releases[1]).toMatchObject({ freeleech: true, seeders: 0, infoHash: null });
  });

  it("reads the protocol as older builds send it, as DownloadProtocol's number (0 unknown, 1 usenet, 2 torrent), and a size of 0 or none as unknown", async () => {
    fakeUpstream(() =>
      json([
        prowlarrRelease("Dune A", { protocol: 2 }),
        prowlarrRelease("Dune B", { protocol: 1 }),
        prowlarrRelease("Dune C", { protocol: 0 }),
        prowlarrRelease("Dune D", { protocol: "torrent", size: undefined }),
        prowlarrRelease("Dune E", { protocol: null, size: 0 }),
      ]),
    );
    const { releases, malformed } = await prowlarr(configWith(PROWLARR)).search("Dune");
    expect(malformed).toBe(0);
    expect(releases.map((r) => [r.title, r.protocol])).toEqual([
      ["Dune A", "torrent"],
      ["Dune B", "usenet"],
      ["Dune C", "unknown"],
      ["Dune D", "torrent"],
      ["Dune E", null],
    ]);
    expect(releases.slice(3).map((r) => r.size)).toEqual([0, 0]);
  });

  it("reads MyAnonamouse's releases as Prowlarr builds them: freeleech from downloadVolumeFactor or the flag, VIP kept in the title", async () => {
    fakeUpstream(() =>
      json([
        mamRelease("Oathbringer", "Brandon Sanderson", { free: true, vip: true }),
        // Older shapes: the factor alone, and flags as objects.
        { ...mamRelease("Oathbringer", "Brandon Sanderson", { filetype: "MP3" }), indexerFlags: undefined, downloadVolumeFactor: 0 },
        {
          ...mamRelease("Oathbringer", "Brandon Sanderson"),
          indexerFlags: [{ id: 1, name: "freeleech" }],
          downloadVolumeFactor: undefined,
        },
        mamRelease("Oathbringer", "Brandon Sanderson", { lang: "GER" }),
      ]),
    );
    const { releases } = await prowlarr(configWith(PROWLARR)).search("Oathbringer Sanderson");
    expect(releases.map((r) => [r.title, r.freeleech])).toEqual([
      ["Oathbringer by Brandon Sanderson [ENG / M4B] [VIP]", true],
      ["Oathbringer by Brandon Sanderson [ENG / MP3]", true],
      ["Oathbringer by Brandon Sanderson [ENG / M4B]", true],
      ["Oathbringer by Brandon Sanderson [GER / M4B]", false],
    ]);
    expect(releases[0]).toMatchObject({ magnetUrl: null, infoHash: null, indexer: "MyAnonamouse", protocol: "torrent" });
    expect(releases[0]!.downloadUrl).toMatch(/^http:\/\/prowlarr\.home\.test:9696\/4\/download\?apikey=/);
  });

  it("reads junk in a flag list (a number, null, an object without a name) as no flag: the search still answers", async () => {
    fakeUpstream(() =>
      json([
        prowlarrRelease("Dune A", { indexerFlags: [1, null, { id: 2 }], downloadVolumeFactor: 1 }),
        prowlarrRelease("Dune B", { indexerFlags: [null, "FreeLeech"], downloadVolumeFactor: 1 }),
      ]),
    );
    const { releases, malformed } = await prowlarr(configWith(PROWLARR)).search("Dune");
    expect(malformed).toBe(0);
    expect(releases.map((r) => [r.title, r.freeleech])).toEqual([
      ["Dune A", false],
      ["Dune B", true],
    ]);
  });

  it("answers nothing as no releases", async () => {
    fakeUpstream(() => json([]));
    expect(await prowlarr(configWith(PROWLARR)).search("nothing")).toEqual({ releases: [], malformed: 0 });
  });

  it("drops results that are not releases and counts them", async () => {
    fakeUpstream(() =>
      json([prowlarrRelease("Dune by Frank Herbert"), { title: "no guid" }, "junk", null, { guid: "g", title: "", size: 1 }]),
    );
    const result = await prowlarr(configWith(PROWLARR)).search("Dune");
    expect(result.releases).toHaveLength(1);
    expect(result.malformed).toBe(4);
  });

  it("answers junk (HTML, an object) with a 502 external_api_error that quotes none of it", async () => {
    fakeUpstream(() => new Response("<html><body>Prowlarr is starting</body></html>", { headers: { "Content-Type": "text/html" } }));
    const html = await failure(prowlarr(configWith(PROWLARR)).search("Dune"));
    expect(html).toMatchObject({ code: "external_api_error", status: 502, failure: "shape" });
    expect(html.detail).not.toContain("starting");
    vi.restoreAllMocks();
    fakeUpstream(() => json({ message: "oops" }));
    expect((await failure(prowlarr(configWith(PROWLARR)).search("Dune"))).failure).toBe("shape");
  });

  it("retries a 500 (a read) and then answers 502 naming the status, never the key", async () => {
    const fake = fakeUpstream(() => new Response("Internal error: key 1f2e3d", { status: 500 }));
    const error = await failure(prowlarr(configWith({ ...PROWLARR, UPSTREAM_TIMEOUT_MS: "3000" })).search("Dune"));
    expect(fake.calls).toHaveLength(3);
    expect(error).toMatchObject({ code: "external_api_error", upstreamStatus: 500 });
    expect(error.detail).toContain("500");
    expect(JSON.stringify({ ...error, detail: error.detail })).not.toContain(PROWLARR.PROWLARR_API_KEY);
  });
});

describe("Prowlarr behind a Workers VPC binding (PROWLARR_VPC)", () => {
  it("searches through the binding, with the key, and nothing goes to the internet directly", async () => {
    const fake = fakeUpstream(() => json([prowlarrRelease("Dune by Frank Herbert [ENG / M4B]")]));
    const vpc = fakeVpcBinding();
    const result = await prowlarr(configWith({ ...PROWLARR, ...({ PROWLARR_VPC: vpc.binding } as object) })).search("Dune");
    expect(result.releases).toHaveLength(1);
    expect(vpc.seen.map((r) => `${r.method} ${r.url.origin}${r.url.pathname}`)).toEqual([`GET ${PROWLARR.PROWLARR_URL}/api/v1/search`]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.headers.get("X-Api-Key")).toBe(PROWLARR.PROWLARR_API_KEY);
  });
});
