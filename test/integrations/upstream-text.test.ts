import { afterEach, describe, expect, it, vi } from "vitest";
import { GoogleBooks } from "../../src/integrations/google-books";
import { prowlarr } from "../../src/integrations/prowlarr";
import { qbittorrent } from "../../src/integrations/qbittorrent";
import { cleanText } from "../../src/integrations/upstream-text";
import { GOOGLE_KEY, GOOGLE_URL, volume } from "./fake-google-books";
import { PROWLARR, prowlarrRelease } from "./fake-prowlarr";
import { configWith, QB_KEY, QB_URL, qbKey } from "./fake-qbittorrent";
import { fakeUpstream, json } from "./fake-upstream";

afterEach(() => vi.restoreAllMocks());

/** Any C0 control character but the tab and line breaks a multi-line text keeps. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this test's job
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const DIRTY = "\u0000Bad\u001b[2J\u0007 text\r\n";

describe("upstream text (src/integrations/upstream-text.ts)", () => {
  it("cleans and clips: no control character, no half of a surrogate pair", () => {
    expect(cleanText(DIRTY, 100)).toBe("Bad[2J text");
    expect(cleanText("a\tb\nc\u0000", 100, true)).toBe("a\tb\nc");
    expect(cleanText(`${"a".repeat(9)}😀`, 10)).toBe("a".repeat(9));
    expect(cleanText("  x  ", 1)).toBe("x");
    expect(cleanText("a\ud800b\udc00", 10)).toBe("a\ufffdb\ufffd");
  });

  it("Prowlarr: reads at most the results it asked for, each text cleaned and clipped", async () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      prowlarrRelease(`${DIRTY}${"T".repeat(i === 0 ? 100_000 : 1)}`, { indexer: `MAM${DIRTY}${"i".repeat(200)}`, guid: `g${i}\u0000` }),
    );
    fakeUpstream(() => json(many));
    const { releases } = await prowlarr(configWith(PROWLARR)).search("Dune");
    expect(releases).toHaveLength(100);
    expect(releases[0]!.title).toHaveLength(500);
    for (const release of releases) {
      expect(`${release.title}${release.indexer}${release.guid}`).not.toMatch(CONTROL);
      expect(release.indexer!.length).toBeLessThanOrEqual(80);
    }
  });

  it("qBittorrent: states and names cleaned, progress within 0..1, a list cut to what a run reads", async () => {
    const h = "a".repeat(40);
    const torrents = Array.from({ length: 6_000 }, (_, i) => ({
      hash: i === 0 ? h : i.toString(16).padStart(40, "0"),
      name: `${DIRTY}name`,
      state: `downloading${DIRTY}`,
      progress: 1e9,
      tags: "mamcrawler",
    }));
    fakeUpstream((request, url) =>
      request.headers.get("Authorization") === `Bearer ${QB_KEY}` && url.origin === QB_URL && url.pathname === "/api/v2/torrents/info"
        ? json(torrents)
        : new Response("Forbidden", { status: 403 }),
    );
    const listed = await qbittorrent(configWith(qbKey)).torrents({ tag: "mamcrawler" });
    expect(listed).toHaveLength(5_000);
    expect(listed[0]).toMatchObject({ hash: h, state: "downloadingBad[2J text", name: "Bad[2J text name", progress: 1 });
  });

  it("Google Books: at most 10 volumes, every text cleaned and clipped", async () => {
    const items = Array.from({ length: 1_000 }, (_, i) =>
      volume(`v${i}`, { title: `${DIRTY}${"t".repeat(2_000)}`, authors: [`A${DIRTY}`], description: `one\ntwo${DIRTY}` }),
    );
    fakeUpstream(() => json({ totalItems: 1_000, items }));
    const client = new GoogleBooks({ url: GOOGLE_URL, apiKey: GOOGLE_KEY }, { timeoutMs: 5_000, accessToken: undefined } as never);
    const volumes = await client.volumes("intitle:x");
    expect(volumes).toHaveLength(10);
    expect(volumes[0]!.info).toMatchObject({ authors: ["ABad[2J text"], description: "one\ntwoBad[2J text" });
    expect(volumes[0]!.info.title).toHaveLength(500);
    expect(JSON.stringify(volumes)).not.toMatch(/\\u00[01]/);
  });
});
