import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { upstreamLoginRefusals } from "../../src/db/schema";
import { forgetSessions } from "../../src/integrations/qbittorrent";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL } from "../integrations/fake-abs";
import { fakeUpstream, json } from "../integrations/fake-upstream";

beforeEach(async () => {
  forgetSessions();
  await primaryDatabase(env).delete(upstreamLoginRefusals);
});
afterEach(() => vi.restoreAllMocks());

const QB_URL = "http://qb.home.test:8080";
const PROWLARR_URL = "http://prowlarr.home.test:9696";
const PROWLARR_API_KEY = "prowlarr-key-51c0d2";
const QB_PASSWORD = "qb-password-8f3a";
const GOOGLE_BOOKS_API_KEY = "google-key-AIza0b1c";

/** ABS, qBittorrent before 5.2 (login + SID cookie) and Prowlarr, answering as the real ones do. */
function homeServer(overrides: { abs?: () => Response } = {}) {
  return fakeUpstream((request, url) => {
    if (url.origin === ABS_URL) {
      if (overrides.abs) return overrides.abs();
      return request.headers.get("Authorization") === `Bearer ${ABS_TOKEN}`
        ? json({ libraries: [{ id: "l1", name: "Books", mediaType: "book" }] })
        : new Response("Unauthorized", { status: 401 });
    }
    if (url.origin === QB_URL) {
      if (url.pathname === "/api/v2/auth/login") {
        return request
          .text()
          .then((body) =>
            body === `username=admin&password=${QB_PASSWORD}`
              ? new Response("Ok.", { headers: { "Set-Cookie": "SID=s3ss10n; HttpOnly; SameSite=Strict; path=/" } })
              : new Response("Fails."),
          );
      }
      if (url.pathname === "/api/v2/app/version") {
        return request.headers.get("Cookie") === "SID=s3ss10n" || request.headers.get("Authorization") === "Bearer qbt_k3y"
          ? new Response("v4.6.7")
          : new Response("Forbidden", { status: 403 });
      }
    }
    if (url.origin === PROWLARR_URL && url.pathname === "/api/v1/system/status") {
      return request.headers.get("X-Api-Key") === PROWLARR_API_KEY
        ? json({ appName: "Prowlarr", version: "1.24.3.4754", isDebug: false })
        : new Response("", { status: 401 });
    }
    return new Response("not here", { status: 404 });
  });
}

const everything = { ABS_URL, ABS_TOKEN, QB_URL, QB_USERNAME: "admin", QB_PASSWORD, PROWLARR_URL, PROWLARR_API_KEY, GOOGLE_BOOKS_API_KEY };

async function statuses(api: ReturnType<typeof withEnv>) {
  const res = await api("/api/integrations", { auth: true });
  expect(res.status).toBe(200);
  return (await res.json<any>()).data;
}

describe("GET /api/integrations", () => {
  it("reports every service as not configured, with the bindings to set, and probes nothing", async () => {
    const fake = fakeUpstream(() => new Response("no", { status: 500 }));
    const data = await statuses(withEnv({}));
    expect(data.integrations).toEqual([
      { name: "audiobookshelf", configured: false, status: "not_configured", latency_ms: null, detail: "Set ABS_URL and ABS_TOKEN" },
      {
        name: "qbittorrent",
        configured: false,
        status: "not_configured",
        latency_ms: null,
        detail: "Set QB_URL and QB_API_KEY (or QB_USERNAME and QB_PASSWORD)",
      },
      { name: "prowlarr", configured: false, status: "not_configured", latency_ms: null, detail: "Set PROWLARR_URL and PROWLARR_API_KEY" },
      { name: "google_books", configured: false, status: "not_configured", latency_ms: null, detail: "Set GOOGLE_BOOKS_API_KEY" },
      { name: "audible", configured: true, status: "ok", latency_ms: null, detail: expect.stringContaining("not probed") },
    ]);
    expect(fake.calls).toHaveLength(0);
  });

  it("probes ABS, qBittorrent (logging in first) and Prowlarr, with their versions; Google Books and Audible are not called", async () => {
    const fake = homeServer();
    const data = await statuses(withEnv(everything));
    expect(data.integrations).toEqual([
      { name: "audiobookshelf", configured: true, status: "ok", latency_ms: expect.any(Number) },
      { name: "qbittorrent", configured: true, status: "ok", latency_ms: expect.any(Number), version: "v4.6.7" },
      { name: "prowlarr", configured: true, status: "ok", latency_ms: expect.any(Number), version: "1.24.3.4754" },
      { name: "google_books", configured: true, status: "ok", latency_ms: null, detail: expect.stringContaining("not probed") },
      { name: "audible", configured: true, status: "ok", latency_ms: null, detail: expect.stringContaining("not probed") },
    ]);
    expect(fake.calls.map((call) => `${call.method} ${call.url.origin}${call.url.pathname}`).sort()).toEqual([
      `GET ${ABS_URL}/api/libraries`,
      `GET ${PROWLARR_URL}/api/v1/system/status`,
      `GET ${QB_URL}/api/v2/app/version`,
      `POST ${QB_URL}/api/v2/auth/login`,
    ]);
  });

  it("uses a qBittorrent 5.2 API key without logging in", async () => {
    const fake = homeServer();
    const data = await statuses(withEnv({ QB_URL, QB_API_KEY: "qbt_k3y" }));
    expect(data.integrations[1]).toMatchObject({ status: "ok", version: "v4.6.7" });
    expect(fake.calls.map((call) => call.url.pathname)).toEqual(["/api/v2/app/version"]);
  });

  it("reports a failing service as error with a reason, a wrong qBittorrent password included", async () => {
    homeServer({ abs: () => new Response("<html>Bad gateway</html>", { status: 502 }) });
    const data = await statuses(withEnv({ ...everything, QB_PASSWORD: "wrong" }));
    expect(data.integrations[0]).toMatchObject({ status: "error", detail: "Audiobookshelf answered 502 to GET /api/libraries" });
    expect(data.integrations[1]).toMatchObject({
      status: "error",
      detail: "qBittorrent refused the login: check QB_USERNAME and QB_PASSWORD",
    });
    expect(data.integrations[2]).toMatchObject({ status: "ok" });
  });

  it("probes a failing service once: the status shows the failure now, not after retries", async () => {
    // Every home service behind a reverse proxy whose upstream is down: 502 Bad Gateway.
    const fake = fakeUpstream(() => new Response("<html>502 Bad Gateway</html>", { status: 502 }));
    const data = await statuses(withEnv({ ABS_URL, ABS_TOKEN, QB_URL, QB_API_KEY: "qbt_k3y", PROWLARR_URL, PROWLARR_API_KEY }));
    expect(data.integrations.slice(0, 3).map((s: { status: string }) => s.status)).toEqual(["error", "error", "error"]);
    expect(fake.calls.map((call) => `${call.url.origin}${call.url.pathname}`).sort()).toEqual([
      `${ABS_URL}/api/libraries`,
      `${PROWLARR_URL}/api/v1/system/status`,
      `${QB_URL}/api/v2/app/version`,
    ]);
  });

  it("keeps qBittorrent's session across probes, and after a refused login reports it without logging in again", async () => {
    const fake = homeServer();
    const logins = () => fake.calls.filter((call) => call.url.pathname === "/api/v2/auth/login").length;
    // Each withEnv is a new configuration: nothing comes from the 60-second cache.
    await statuses(withEnv(everything));
    await statuses(withEnv(everything));
    expect(logins()).toBe(1);
    // A new isolate, with a wrong password this time.
    forgetSessions();
    for (let i = 0; i < 6; i++) {
      const data = await statuses(withEnv({ ...everything, QB_PASSWORD: "wrong" }));
      expect(data.integrations[1]).toMatchObject({ status: "error", detail: expect.stringContaining("refused the login") });
      if (i > 0) expect(data.integrations[1].detail).toContain("so qBittorrent does not ban this address");
    }
    expect(logins()).toBe(2);
    // Another isolate knows it too (kept in D1, by a hash: no password stored).
    forgetSessions();
    const again = await statuses(withEnv({ ...everything, QB_PASSWORD: "wrong" }));
    expect(again.integrations[1].detail).toContain("no new login before");
    expect(logins()).toBe(2);
    const stored = await primaryDatabase(env).select().from(upstreamLoginRefusals);
    expect(stored).toEqual([expect.objectContaining({ loginKey: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(JSON.stringify(stored)).not.toContain("wrong");
  });

  it("caches the probes for up to 60 seconds", async () => {
    const fake = homeServer();
    const api = withEnv(everything);
    const first = await statuses(api);
    const calls = fake.calls.length;
    const second = await statuses(api);
    expect(fake.calls).toHaveLength(calls);
    expect(second).toMatchObject({ cached: true, checked_at: first.checked_at, integrations: first.integrations });
  });

  it("shows no key, password or URL of the services", async () => {
    homeServer();
    const res = await withEnv(everything)("/api/integrations", { auth: true });
    const text = await res.text();
    for (const value of [ABS_TOKEN, QB_PASSWORD, PROWLARR_API_KEY, GOOGLE_BOOKS_API_KEY, "s3ss10n", "home.test"])
      expect(text).not.toContain(value);
  });

  it("needs credentials", async () => {
    expect((await withEnv({})("/api/integrations")).status).toBe(401);
  });
});
