import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { errorBody } from "../../src/errors";
import { retryAfter, ServiceClient, type ServiceClientOptions, UpstreamError } from "../../src/integrations/http";
import { captureLogs, fakeUpstream, hang, json } from "./fake-upstream";

afterEach(() => vi.restoreAllMocks());

const KEY = "sk-upstream-Zq81hZ0x7Lw";
const ACCESS = { clientId: "cid-9f2e.access", clientSecret: "access-secret-77ab1" };

function client(overrides: Partial<ServiceClientOptions> = {}) {
  return new ServiceClient({
    service: "audiobookshelf",
    baseUrl: "http://abs.home.test/base",
    upstream: { timeoutMs: 2_000, accessToken: undefined },
    authHeaders: { Authorization: `Bearer ${KEY}` },
    backoffMs: 5,
    ...overrides,
  });
}

const libraries = z.object({ libraries: z.array(z.object({ id: z.string(), name: z.string() })) });

async function failure(work: Promise<unknown>): Promise<UpstreamError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe("ServiceClient", () => {
  it("sends the credential, the query and the path below the base URL, and parses the answer", async () => {
    const fake = fakeUpstream(() => json({ libraries: [{ id: "l1", name: "Books", extra: true }] }));
    const result = await client().json({ path: "/api/libraries", query: { limit: 10, skip: undefined } }, libraries);
    expect(result).toEqual({ libraries: [{ id: "l1", name: "Books" }] });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.url.href).toBe("http://abs.home.test/base/api/libraries?limit=10");
    expect(fake.calls[0]!.headers.get("Authorization")).toBe(`Bearer ${KEY}`);
    expect(fake.calls[0]!.headers.get("CF-Access-Client-Id")).toBeNull();
  });

  it("adds the Access service token for self-hosted services, never for Google Books", async () => {
    const fake = fakeUpstream(() => json({ libraries: [] }));
    await client({ upstream: { timeoutMs: 2_000, accessToken: ACCESS } }).json({ path: "/api/libraries" }, libraries);
    expect(fake.calls[0]!.headers.get("CF-Access-Client-Id")).toBe(ACCESS.clientId);
    expect(fake.calls[0]!.headers.get("CF-Access-Client-Secret")).toBe(ACCESS.clientSecret);

    await new ServiceClient({
      service: "google_books",
      baseUrl: "https://books.test/books/v1",
      upstream: { timeoutMs: 2_000, accessToken: ACCESS },
      authQuery: { key: KEY },
    }).text({ path: "/volumes", query: { q: "isbn:9780000000001" } });
    expect(fake.calls[1]!.headers.get("CF-Access-Client-Id")).toBeNull();
    expect(fake.calls[1]!.url.searchParams.get("key")).toBe(KEY);
    expect(fake.calls[1]!.url.searchParams.get("q")).toBe("isbn:9780000000001");
  });

  it("retries an idempotent read on 500 and answers the success", async () => {
    let n = 0;
    const fake = fakeUpstream(() => (++n === 1 ? new Response("boom", { status: 500 }) : json({ libraries: [] })));
    expect(await client().json({ path: "/api/libraries" }, libraries)).toEqual({ libraries: [] });
    expect(fake.calls).toHaveLength(2);
  });

  it("gives up after two retries with 502 audiobookshelf_error naming the status and path", async () => {
    const fake = fakeUpstream(() => new Response("down", { status: 503 }));
    const error = await failure(client().json({ path: "/api/libraries", query: { token: KEY } }, libraries));
    expect(fake.calls).toHaveLength(3);
    expect(error).toMatchObject({ status: 502, code: "audiobookshelf_error", failure: "status", upstreamStatus: 503 });
    expect(error.detail).toBe("Audiobookshelf answered 503 to GET /api/libraries");
  });

  it("logs a failed call once, as a warning an operator can filter on: service, failure, status and attempts", async () => {
    const logs = captureLogs();
    fakeUpstream(() => new Response("down", { status: 503 }));
    await failure(client().json({ path: "/api/libraries" }, libraries));
    expect(logs.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: "warn",
        event: "upstream_failed",
        service: "audiobookshelf",
        failure: "status",
        upstream_status: 503,
        attempts: 3,
      }),
    ]);
  });

  it("never retries a write", async () => {
    const fake = fakeUpstream(() => new Response("boom", { status: 500 }));
    const error = await failure(
      client().request({ method: "PATCH", path: "/api/items/li_1/media", body: { json: { metadata: { title: "x" } } } }),
    );
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.headers.get("Content-Type")).toBe("application/json");
    expect(JSON.parse(fake.calls[0]!.body)).toEqual({ metadata: { title: "x" } });
    expect(error.detail).toBe("Audiobookshelf answered 500 to PATCH /api/items/li_1/media");
  });

  it("does not retry a 4xx other than 429", async () => {
    const fake = fakeUpstream(() => new Response("no", { status: 404 }));
    expect((await failure(client().text({ path: "/api/items/x" }))).upstreamStatus).toBe(404);
    expect(fake.calls).toHaveLength(1);
  });

  it("honours a 429's Retry-After before retrying", async () => {
    let n = 0;
    const fake = fakeUpstream(() =>
      ++n === 1 ? new Response("slow down", { status: 429, headers: { "Retry-After": "1" } }) : json({ libraries: [] }),
    );
    const started = Date.now();
    await client().json({ path: "/api/libraries" }, libraries);
    expect(fake.calls).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("fails at once when Retry-After asks for longer than the deadline leaves, and says how long", async () => {
    const fake = fakeUpstream(() => new Response("quota", { status: 429, headers: { "Retry-After": "3600" } }));
    const error = await failure(client().text({ path: "/api/libraries" }));
    expect(fake.calls).toHaveLength(1);
    expect(error).toMatchObject({ upstreamStatus: 429, retryAfterMs: 3_600_000 });
  });

  it("retries a network failure, and reports an unreachable service", async () => {
    const fake = fakeUpstream(() => {
      throw new TypeError("connect ECONNREFUSED 10.0.0.2:13378");
    });
    const error = await failure(client().text({ path: "/api/libraries" }));
    expect(fake.calls).toHaveLength(3);
    expect(error).toMatchObject({ failure: "unreachable", detail: "Audiobookshelf could not be reached (GET /api/libraries)" });
  });

  it("ends a hanging call at the deadline", async () => {
    fakeUpstream((request) => hang(request));
    const started = Date.now();
    const error = await failure(client({ upstream: { timeoutMs: 300, accessToken: undefined } }).text({ path: "/api/libraries" }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({
      status: 502,
      failure: "timeout",
      detail: "Audiobookshelf did not answer GET /api/libraries within 300 ms",
    });
  });

  it("turns HTML and a wrong shape into an upstream error, not a crash", async () => {
    fakeUpstream(() => new Response("<html><body>Sign in</body></html>", { headers: { "Content-Type": "text/html" } }));
    expect((await failure(client().json({ path: "/api/libraries" }, libraries))).detail).toBe(
      "Audiobookshelf answered GET /api/libraries with something that is not JSON",
    );
    vi.restoreAllMocks();
    fakeUpstream(() => json({ libraries: [{ id: 7 }] }));
    const error = await failure(client().json({ path: "/api/libraries" }, libraries));
    expect(error).toMatchObject({
      status: 502,
      failure: "shape",
      detail: "Audiobookshelf answered GET /api/libraries with an unexpected shape (at libraries.0.id)",
    });
  });

  it("does not follow a redirect (Access's login page) with the credentials", async () => {
    const fake = fakeUpstream(
      () => new Response(null, { status: 302, headers: { Location: "https://team.cloudflareaccess.com/cdn-cgi/access/login" } }),
    );
    const error = await failure(client().text({ path: "/api/libraries" }));
    expect(fake.calls).toHaveLength(1);
    expect(error.detail).toMatch(/^Audiobookshelf answered 302 to GET \/api\/libraries: a redirect/);
  });

  it("sends forms and multipart bodies, and hands back statuses the caller accepts with their headers", async () => {
    const fake = fakeUpstream((_request, url) =>
      url.pathname.endsWith("/auth/login")
        ? new Response("Ok.", { headers: { "Set-Cookie": "SID=abc123; HttpOnly; path=/" } })
        : new Response("Fails.", { status: 409 }),
    );
    const qb = client({ service: "qbittorrent", baseUrl: "http://qb.test", authHeaders: {} });
    const login = await qb.request({ method: "POST", path: "/api/v2/auth/login", body: { form: { username: "admin", password: "pw" } } });
    expect(login.text).toBe("Ok.");
    expect(login.headers.getSetCookie()).toEqual(["SID=abc123; HttpOnly; path=/"]);
    expect(fake.calls[0]!.headers.get("Content-Type")).toMatch(/^application\/x-www-form-urlencoded/);
    expect(fake.calls[0]!.body).toBe("username=admin&password=pw");

    const added = await qb.request({
      method: "POST",
      path: "/api/v2/torrents/add",
      body: { multipart: { urls: "magnet:?xt=urn:btih:abc", category: "audiobooks" } },
      accept: [409],
    });
    expect(added.status).toBe(409);
    expect(fake.calls[1]!.headers.get("Content-Type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(fake.calls[1]!.body).toContain('name="urls"');
    expect(fake.calls[1]!.body).toContain("magnet:?xt=urn:btih:abc");
  });

  it.each([
    ["qbittorrent", "qbittorrent_error", "qBittorrent"],
    ["prowlarr", "external_api_error", "Prowlarr"],
    ["google_books", "external_api_error", "Google Books"],
  ] as const)("maps a %s failure to 502 %s", async (service, code, label) => {
    fakeUpstream(() => new Response("no", { status: 401 }));
    const error = await failure(client({ service }).text({ path: "/api/v1/system/status" }));
    expect(error).toMatchObject({ status: 502, code, detail: `${label} answered 401 to GET /api/v1/system/status: check its credentials` });
  });

  it("never lets the key, the query string, an upstream header or body reach the error or a log line", async () => {
    const logs = captureLogs();
    // An upstream that echoes everything it was sent, in its body and in its headers.
    const echo = (request: Request, status: number) =>
      new Response(`${request.url} ${request.headers.get("Authorization")} ${request.headers.get("CF-Access-Client-Secret")}`, {
        status,
        headers: { "X-Echo": `${request.headers.get("Authorization")}`, "Set-Cookie": `SID=${KEY}` },
      });
    const errors: UpstreamError[] = [];
    for (const status of [200, 401, 500]) {
      fakeUpstream((request) => echo(request, status));
      const gb = new ServiceClient({
        service: "google_books",
        baseUrl: "https://books.test/v1",
        upstream: { timeoutMs: 2_000, accessToken: ACCESS },
        authQuery: { key: KEY },
        backoffMs: 1,
      });
      errors.push(await failure(gb.json({ path: "/volumes", query: { q: `isbn:${KEY}` } }, libraries)));
      errors.push(
        await failure(
          client({ upstream: { timeoutMs: 2_000, accessToken: ACCESS } }).json(
            { path: "/api/libraries", query: { secret: KEY } },
            libraries,
          ),
        ),
      );
      vi.mocked(globalThis.fetch).mockRestore();
    }
    const seen = [
      ...logs,
      ...errors.map((e) => JSON.stringify(errorBody(e, "req_1", false))),
      ...errors.map((e) => `${e.message} ${e.stack}`),
    ].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [KEY, ACCESS.clientSecret, "Bearer", "books.test", "abs.home.test", "?", "SID="])
      expect(seen).not.toContain(secret);
  });
});

describe("ServiceClient: the bytes of an answer (issue 23)", () => {
  /** An answer that never ends, counting the bytes the client pulled from it. */
  function endless(chunk = 64 * 1024) {
    const pulled = { bytes: 0, cancelled: false };
    const bytes = new TextEncoder().encode(`[${'"x",'.repeat(chunk / 4 - 1)}`.slice(0, chunk));
    const body = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled.bytes += bytes.byteLength;
          controller.enqueue(bytes);
        },
        cancel() {
          pulled.cancelled = true;
        },
      });
    return { pulled, body };
  }

  it("stops reading an answer at its byte limit: a 502 shape error, never retried, never the whole answer", async () => {
    const { pulled, body } = endless();
    const fake = fakeUpstream(() => new Response(body(), { headers: { "Content-Type": "application/json" } }));
    const maxBytes = 1024 * 1024;
    const error = await failure(
      client({ maxBytes, upstream: { timeoutMs: 60_000, accessToken: undefined } }).json({ path: "/api/libraries" }, libraries),
    );
    expect(error).toMatchObject({
      status: 502,
      failure: "shape",
      detail: "Audiobookshelf answered GET /api/libraries with more than 1 MB",
    });
    expect(fake.calls).toHaveLength(1);
    expect(pulled.bytes).toBeLessThanOrEqual(maxBytes + 2 * 64 * 1024);
    expect(pulled.cancelled).toBe(true);
  });

  it("refuses an answer whose Content-Length is over the limit without reading it, and reads one under it or at it whole", async () => {
    const { pulled, body } = endless();
    fakeUpstream(() => new Response(body(), { headers: { "Content-Length": String(80 * 1024 * 1024) } }));
    expect((await failure(client().text({ path: "/big" }))).detail).toContain("more than 8 MB");
    expect(pulled.bytes).toBeLessThanOrEqual(2 * 64 * 1024);
    vi.restoreAllMocks();
    const text = "é".repeat(300_000);
    fakeUpstream(() => new Response(text));
    expect(await client({ maxBytes: 600_000 }).text({ path: "/fits" })).toBe(text);
    // Exactly the limit (600,000 bytes), declared as such: read whole too.
    vi.restoreAllMocks();
    fakeUpstream(() => new Response(text, { headers: { "Content-Length": "600000" } }));
    expect(await client({ maxBytes: 600_000 }).text({ path: "/exactly" })).toBe(text);
  });
});

describe("retryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(retryAfter("7", now)).toBe(7000);
    expect(retryAfter("Sun, 29 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(retryAfter("soon", now)).toBeUndefined();
    expect(retryAfter(null, now)).toBeUndefined();
  });

  it("at its edges: 0 seconds and a date already past mean now; an empty header means nothing was asked", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(retryAfter("0", now)).toBe(0);
    expect(retryAfter("Sun, 29 Nov 2026 11:59:00 GMT", now)).toBe(0);
    expect(retryAfter("", now)).toBeUndefined();
    expect(retryAfter("120", now)).toBe(120_000);
  });
});
