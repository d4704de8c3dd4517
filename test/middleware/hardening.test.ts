import { afterEach, describe, expect, it, vi } from "vitest";
import { API_KEY, withEnv } from "../helpers";

const app = withEnv({ ALLOWED_ORIGINS: "https://dash.example" });

afterEach(() => vi.restoreAllMocks());

describe("security headers", () => {
  it("are on every response, errors included", async () => {
    for (const path of ["/health/live", "/api/nothing"]) {
      const res = await app(path);
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options"), path).toBe("SAMEORIGIN");
      expect(res.headers.get("Strict-Transport-Security"), path).toMatch(/max-age=\d+/);
    }
  });
});

describe("CORS", () => {
  it("allows only the origins in ALLOWED_ORIGINS, and exposes the rate-limit headers", async () => {
    const allowed = await app("/api/info", { headers: { Origin: "https://dash.example" } });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://dash.example");
    expect(allowed.headers.get("Access-Control-Expose-Headers")).toContain("RateLimit");
    const other = await app("/api/info", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses origins that only share a prefix (or a suffix) with an allowed one", async () => {
    for (const origin of [
      "https://dash.example.evil.com",
      "https://dash.example:8443",
      "http://dash.example",
      "https://dash.exampl",
      "https://evil.dash.example",
    ]) {
      const simple = await app("/api/info", { headers: { Origin: origin } });
      expect(simple.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
      const preflight = await app("/api/system/health", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-API-Key" },
      });
      expect(preflight.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
    }
  });

  it("answers a preflight from an allowed origin", async () => {
    const res = await app("/api/system/health", {
      method: "OPTIONS",
      headers: { Origin: "https://dash.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-API-Key" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Headers")).toContain("X-API-Key");
  });
});

describe("the request log", () => {
  it("writes one JSON line per request with the route pattern and a client hash, never the key", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    const res = await app("/api/system/health", { auth: true, headers: { "X-Request-ID": "trace-123" } });
    expect(res.status).toBe(200);
    const entries = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event === "request");
    expect(entries).toEqual([
      {
        level: "info",
        event: "request",
        request_id: "trace-123",
        method: "GET",
        route: "/api/system/health",
        status: 200,
        duration_ms: expect.any(Number),
        tier: "health",
        version_id: expect.any(String),
        version_tag: null,
        client: expect.stringMatching(/^[0-9a-f]{16}$/),
      },
    ]);
    expect(lines.join("\n")).not.toContain(API_KEY);
  });

  it("names the Worker version that answered, so the two versions of a gradual deploy can be told apart", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    const metadata = { id: "5a9cbb50-4f68-4b4e-9d6c-6d1e7b2f0a11", tag: "a1b2c3d", timestamp: "2026-11-29T12:00:00.000Z" };
    const res = await withEnv({ CF_VERSION_METADATA: metadata })("/health/live");
    expect(res.status).toBe(200);
    const entry = lines.map((line) => JSON.parse(line)).find((e) => e.event === "request");
    expect(entry).toMatchObject({ route: "/health/live", version_id: metadata.id, version_tag: "a1b2c3d" });
  });
});
