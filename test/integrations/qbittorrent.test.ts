import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UpstreamError } from "../../src/integrations/http";
import { forgetSessions, LOGIN_HOLD_MS, magnetHash, qbittorrent, sessionCookie } from "../../src/integrations/qbittorrent";
import { configWith, fakeQbittorrent, QB_BAN_AFTER, QB_KEY, QB_PASS, QB_URL, qbKey, qbLogin, qbPostFields } from "./fake-qbittorrent";
import { fakeVpcBinding } from "./fake-upstream";
import { makeTorrent } from "./torrent-file";

beforeEach(() => forgetSessions());
afterEach(() => vi.restoreAllMocks());

const HASH = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";
const magnet = (hash = HASH) => `magnet:?xt=urn:btih:${hash}&dn=Dune`;
const add = (url: string) => ({ url, category: "audiobooks", savePath: "/data/audiobooks", tags: ["mamcrawler", "mamcrawler-7"] });

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe.each(["4.x", "5.2"] as const)("qBittorrent %s, username and password", (style) => {
  it("logs in once, keeps the session cookie, and sends it", async () => {
    const fake = fakeQbittorrent({ style });
    const qb = qbittorrent(configWith(qbLogin));
    expect(await qb.version()).toBe(style === "5.2" ? "v5.2.0" : "v4.6.7");
    expect(await qb.torrents({ hashes: [HASH] })).toEqual([]);
    expect(fake.counts().logins).toBe(1);
    const login = fake.calls[0]!;
    expect(login.url.pathname).toBe("/api/v2/auth/login");
    expect(new URLSearchParams(login.body).get("password")).toBe(QB_PASS);
    expect(fake.calls[1]!.headers.get("Cookie")).toMatch(style === "5.2" ? /^QBT_SID_8080=\w+$/ : /^SID=\w+$/);
    // A new client in the same isolate reuses the session.
    await qbittorrent(configWith(qbLogin)).version();
    expect(fake.counts().logins).toBe(1);
  });

  it("logs in again once when the session expired (403), then goes on", async () => {
    const fake = fakeQbittorrent({ style });
    const qb = qbittorrent(configWith(qbLogin));
    await qb.version();
    fake.expireSessions();
    expect(await qb.version()).toMatch(/^v/);
    expect(fake.counts().logins).toBe(2);
  });

  it("answers a wrong password with a 502 qbittorrent_error that names neither it nor the body", async () => {
    fakeQbittorrent({ style });
    const error = await failure(qbittorrent(configWith({ ...qbLogin, QB_PASSWORD: "wrong-password-1" })).version());
    expect(error.code).toBe("qbittorrent_error");
    expect(error.status).toBe(502);
    expect(error.detail).toContain("refused the login");
    expect(JSON.stringify(error)).not.toContain("wrong-password-1");
  });

  it("adds a torrent with the URL, category, save path and tags, read back exactly by qBittorrent's own parser", async () => {
    const fake = fakeQbittorrent({ style });
    const outcome = await qbittorrent(configWith(qbLogin)).add(add(magnet()));
    expect(outcome).toEqual(style === "5.2" ? { result: "added", hash: HASH } : { result: "added" });
    expect(fake.torrents.get(HASH)).toMatchObject({
      category: "audiobooks",
      tags: "mamcrawler,mamcrawler-7",
      save_path: "/data/audiobooks",
    });
    // Without a save path, the tags are the last field: they must come through clean too.
    await qbittorrent(configWith(qbLogin)).add({ ...add(magnet(OTHER)), savePath: undefined });
    expect(fake.torrents.get(OTHER)).toMatchObject({ tags: "mamcrawler,mamcrawler-7", save_path: undefined });
  });

  it("adds a torrent by URL: qBittorrent fetches the .torrent and the torrent shows under its tag, checking first", async () => {
    const fake = fakeQbittorrent({ style });
    const url = "http://prowlarr.lan:9696/1/download?apikey=k&link=abc";
    const file = await makeTorrent("Dune by Frank Herbert [ENG / M4B]");
    fake.serve(url, () => new Response(file.bytes));
    const qb = qbittorrent(configWith(qbLogin));
    expect(await qb.add(add(url))).toEqual(style === "5.2" ? { result: "added", hash: file.hash } : { result: "added" });
    expect(fake.calls.some((c) => c.url.href === url)).toBe(true);
    const states = [];
    for (let i = 0; i < 2; i++) states.push((await qb.torrents({ tag: "mamcrawler-7" })).map((t) => [t.hash, t.name, t.state]));
    expect(states).toEqual([[[file.hash, file.name, "checkingResumeData"]], [[file.hash, file.name, "stalledDL"]]]);
    expect(await qb.torrents({ tag: "mamcrawler" })).toHaveLength(1);
    expect(await qb.torrents({ tag: "mamcrawler-70" })).toEqual([]);
  });
  it("tells a duplicate (5.2's 409) or a refusal (`Fails.`) apart from an added torrent", async () => {
    fakeQbittorrent({ style });
    const qb = qbittorrent(configWith(qbLogin));
    await qb.add(add(magnet()));
    expect(await qb.add(add(magnet()))).toEqual(
      style === "5.2" ? { result: "duplicate" } : { result: "refused", detail: expect.stringContaining("Fails.") },
    );
  });

  it("reads torrents by hashes and by tag", async () => {
    const fake = fakeQbittorrent({ style });
    const qb = qbittorrent(configWith(qbLogin));
    const other = OTHER;
    await qb.add(add(magnet()));
    await qb.add({ ...add(magnet(other)), tags: ["mamcrawler", "mamcrawler-8"] });
    fake.set(HASH, { state: "downloading", progress: 0.25 });
    expect(await qb.torrents({ hashes: [HASH, other] })).toHaveLength(2);
    expect(await qb.torrents({ hashes: [HASH] })).toEqual([expect.objectContaining({ hash: HASH, state: "downloading", progress: 0.25 })]);
    expect((await qb.torrents({ tag: "mamcrawler-8" })).map((t) => t.hash)).toEqual([other]);
    const info = fake.calls.filter((c) => c.url.pathname === "/api/v2/torrents/info").at(-3)!;
    expect(info.url.searchParams.get("hashes")).toBe(`${HASH}|${other}`);
  });
});

describe("logins that do no harm", () => {
  const MINUTE = 60_000;

  it.each(["4.x", "5.2"] as const)(
    "%s: after a refused login, tries no other for LOGIN_HOLD_MS and says so; then once more",
    async (style) => {
      const fake = fakeQbittorrent({ style });
      let now = Date.parse("2026-12-07T20:00:00Z");
      const wrong = () => qbittorrent(configWith({ ...qbLogin, QB_PASSWORD: "wrong-password-1" }), { now: () => now });
      expect((await failure(wrong().version())).detail).toBe("qBittorrent refused the login: check QB_USERNAME and QB_PASSWORD");
      for (let i = 0; i < 10; i++) {
        now += MINUTE;
        const held = await failure(wrong().torrents({ tag: "mamcrawler" }));
        expect(held.detail).toBe(
          "qBittorrent refused the login: check QB_USERNAME and QB_PASSWORD (at 2026-12-07T20:00:00.000Z; no new login before 2026-12-07T20:15:00.000Z, so qBittorrent does not ban this address)",
        );
      }
      expect(fake.counts()).toMatchObject({ logins: 1, failedLogins: 1 });
      now = Date.parse("2026-12-07T20:15:00Z");
      await failure(wrong().version());
      expect(fake.counts().logins).toBe(2);
      // The right password is not held by the wrong one's refusal.
      expect(await qbittorrent(configWith(qbLogin), { now: () => now }).version()).toMatch(/^v/);
      expect(LOGIN_HOLD_MS).toBe(15 * MINUTE);
    },
  );

  it("reads the ban (403 to the login) as such, and holds it too", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const now = Date.parse("2026-12-07T20:00:00Z");
    for (let i = 0; i < QB_BAN_AFTER; i++) {
      await failure(qbittorrent(configWith({ ...qbLogin, QB_PASSWORD: `wrong-${i}` }), { now: () => now }).version());
    }
    const banned = await failure(qbittorrent(configWith(qbLogin), { now: () => now }).version());
    expect(banned.detail).toContain("the IP is banned");
    const calls = fake.calls.length;
    await failure(qbittorrent(configWith(qbLogin), { now: () => now + 60_000 }).version());
    expect(fake.calls).toHaveLength(calls);
  });
});

describe("qBittorrent 5.2 with an API key", () => {
  it("sends the key as a Bearer token and never logs in", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    const qb = qbittorrent(configWith(qbKey));
    expect(await qb.version()).toBe("v5.2.0");
    expect(fake.counts().logins).toBe(0);
    expect(fake.calls[0]!.headers.get("Authorization")).toBe(`Bearer ${QB_KEY}`);
    expect(fake.calls[0]!.headers.get("Cookie")).toBeNull();
  });

  it("prefers the key when both are set", async () => {
    const fake = fakeQbittorrent({ style: "5.2" });
    await qbittorrent(configWith({ ...qbLogin, ...qbKey })).version();
    expect(fake.counts().logins).toBe(0);
  });

  it("reads 202 as accepted and still fetching", async () => {
    fakeQbittorrent({ style: "5.2", pending: true });
    expect(await qbittorrent(configWith(qbKey)).add(add("http://prowlarr.lan:9696/1/download?link=x"))).toEqual({ result: "pending" });
  });

  it("answers a JSON body that is neither shape with a 502, not a crash", async () => {
    fakeQbittorrent({ style: "5.2" });
    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("<html>proxy error</html>", { status: 200 }));
    const error = await failure(qbittorrent(configWith(qbKey)).torrents({ hashes: [HASH] }));
    expect(error.failure).toBe("shape");
    expect(error.detail).not.toContain("proxy error");
  });
});

describe("qBittorrent behind a Workers VPC binding (QB_VPC)", () => {
  it("sends every call through the binding, the login's session cookie included", async () => {
    const fake = fakeQbittorrent({ style: "4.x" });
    const vpc = fakeVpcBinding();
    const qb = qbittorrent(configWith({ ...qbLogin, ...({ QB_VPC: vpc.binding } as object) }));
    expect(await qb.version()).toBe("v4.6.7");
    expect(await qb.add(add(magnet()))).toEqual({ result: "added" });
    expect(await qb.torrents({ hashes: [HASH] })).toEqual([expect.objectContaining({ hash: HASH, category: "audiobooks" })]);
    expect(vpc.seen.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "POST /api/v2/auth/login",
      "GET /api/v2/app/version",
      "POST /api/v2/torrents/add",
      "GET /api/v2/torrents/info",
    ]);
    // Addressed to the home server's own URL, and nothing went to the internet directly.
    expect(vpc.seen.every((r) => r.url.origin === new URL(QB_URL).origin)).toBe(true);
    expect(fake.calls).toHaveLength(vpc.seen.length);
  });
});

describe("the fake's body parser is qBittorrent's (src/base/http/requestparser.cpp)", () => {
  const fields = async (body: FormData | URLSearchParams) => {
    const request = new Request("http://x.test/", { method: "POST", body });
    return qbPostFields(request.headers.get("Content-Type") ?? "", await request.text());
  };

  it("keeps the closing boundary in the last field of a multipart body that does not end in CRLF, as 4.5.2 does", async () => {
    const form = new FormData();
    form.append("urls", magnet());
    form.append("savepath", "/data/audiobooks");
    const request = new Request("http://x.test/", { method: "POST", body: form });
    const text = await request.text();
    const parsed = qbPostFields(request.headers.get("Content-Type") ?? "", text);
    expect(parsed?.get("urls")).toBe(magnet());
    // FormData as the Workers runtime writes it: no CRLF after the closing boundary.
    expect(text.endsWith("--")).toBe(true);
    expect(parsed?.get("savepath")).toMatch(/^\/data\/audiobooks\r\n--.+--$/);
  });

  it("reads a multipart body that ends in CRLF, and a urlencoded one, cleanly", async () => {
    const boundary = "b0undary";
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="tags"\r\n\r\na,b\r\n--${boundary}--\r\n`;
    expect(qbPostFields(`multipart/form-data; boundary=${boundary}`, body)?.get("tags")).toBe("a,b");
    expect((await fields(new URLSearchParams({ urls: `${magnet()}\n${magnet(OTHER)}`, tags: "a,b" })))?.get("urls")).toBe(
      `${magnet()}\n${magnet(OTHER)}`,
    );
  });
});

describe("qBittorrent helpers", () => {
  it("finds the session cookie of every version in Set-Cookie", () => {
    const headers = (line: string) =>
      new Headers([
        ["Set-Cookie", "other=1; path=/"],
        ["Set-Cookie", line],
      ]);
    expect(sessionCookie(headers("SID=abc123; HttpOnly; path=/"))).toBe("SID=abc123");
    expect(sessionCookie(headers("QBT_SID_8080=xyz; HttpOnly; SameSite=Strict; path=/"))).toBe("QBT_SID_8080=xyz");
    expect(sessionCookie(headers("SID=; expires=Thu, 01 Jan 1970 00:00:00 GMT"))).toBeUndefined();
  });

  it("takes the info hash of a magnet, hex or base32", () => {
    expect(magnetHash(`magnet:?xt=urn:btih:${HASH.toUpperCase()}&dn=x`)).toBe(HASH);
    // The same 20 bytes in base32.
    expect(magnetHash("magnet:?dn=x&xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH")).toBe(HASH);
    expect(magnetHash("magnet:?xt=urn:sha1:abc")).toBeNull();
  });
});
