import { describe, expect, it } from "vitest";
import { checkLink, sendableLink, shownLink } from "../../../src/services/downloads/links";

const PROWLARR = { url: "https://home.example.test/prowlarr", apiKey: "k3y+/=" };

describe("download links (src/services/downloads/links.ts)", () => {
  it("allows a magnet, and an http(s) link on Prowlarr's origin without its key (in any case)", () => {
    expect(checkLink(" magnet:?xt=urn:btih:abc ", PROWLARR.url)).toEqual({ ok: true, kind: "magnet", link: "magnet:?xt=urn:btih:abc" });
    expect(checkLink("https://home.example.test/prowlarr/3/download?ApiKey=x&link=a%20b&file=A+B", PROWLARR.url)).toEqual({
      ok: true,
      kind: "prowlarr",
      link: "https://home.example.test/prowlarr/3/download?link=a%20b&file=A+B",
    });
  });

  it("refuses anything else, without repeating the link", () => {
    const refused = [
      "http://home.example.test:8080/3/download",
      "https://home.example.test.evil.test/3/download",
      "http://[::1]/x",
      "gopher://home.example.test/",
      `magnet:?xt=urn:btih:${"a".repeat(10_000)}`,
      "magnet:?xt=urn:btih:abc\u0000",
      `https://home.example.test/${"a".repeat(2_100)}`,
    ];
    for (const link of refused) {
      const checked = checkLink(link, PROWLARR.url);
      expect(checked.ok, link.slice(0, 60)).toBe(false);
      if (!checked.ok) expect(checked.reason).not.toContain("home.example.test");
    }
  });

  it("puts the key back only on Prowlarr's download path, below its own path", () => {
    const send = (link: string) => {
      const checked = checkLink(link, PROWLARR.url);
      if (!checked.ok) throw new Error(checked.reason);
      return sendableLink(checked, PROWLARR);
    };
    expect(send("https://home.example.test/prowlarr/3/download?link=a&file=b")).toBe(
      "https://home.example.test/prowlarr/3/download?apikey=k3y%2B%2F%3D&link=a&file=b",
    );
    expect(send("https://home.example.test/3/download?link=a")).toBe("https://home.example.test/3/download?link=a");
    expect(send("https://home.example.test/prowlarr/api/v1/indexer")).toBe("https://home.example.test/prowlarr/api/v1/indexer");
  });

  it("answers links without credentials", () => {
    expect(shownLink("magnet:?xt=urn:btih:ABC&dn=A+Book&tr=https%3A%2F%2Ft.test%2Fpk%2Fannounce&ws=http://s.test/?passkey=1&xl=10")).toBe(
      "magnet:?xt=urn:btih:ABC&dn=A%20Book&xl=10",
    );
    expect(shownLink("https://u:p@t.test/dl.php?id=1&passkey=s&torrent_pass=s&authkey=s&file=x")).toBe("https://t.test/dl.php?id=1&file=x");
    expect(shownLink(null)).toBeNull();
  });
});
