import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { addressForBudget } from "../../src/lib/client";
import { limiterFor } from "../../src/rate-limit/middleware";
import { uniqueIp, withEnv } from "../helpers";

// A D1 outage as the binding reports it: workerd's own "Network connection lost." (no D1_ prefix),
// or any other failure of the binding. Reads that run as a batch (a list and its count) must answer
// like single statements: 503 database_error, never a 500.

function failingD1(error: () => unknown) {
  const fail = () => Promise.reject(error());
  const statement = { bind: () => statement, all: fail, raw: fail, run: fail, first: fail };
  // Opening a session is local, as on the real binding; its first query fails.
  return {
    prepare: () => statement,
    batch: fail,
    exec: fail,
    withSession: () => ({ prepare: () => statement, batch: fail, getBookmark: () => null }),
  };
}

afterEach(() => vi.restoreAllMocks());

describe.each([
  ["workerd's disconnect", () => new Error("Network connection lost.")],
  ["an internal error", () => new Error("internal error; reference = 0123456789abcdef")],
  ["a thrown non-Error", () => "broken"],
])("when D1 fails with %s", (_, error) => {
  const broken = withEnv({ DB: failingD1(error), API_KEY: env.API_KEY });

  it.each(["/api/books", "/api/series", "/api/authors", "/api/downloads", "/api/admin/users", "/api/books/search?query=dune"])(
    "GET %s answers 503 database_error",
    async (path) => {
      vi.spyOn(console, "error").mockImplementation(() => {});
      const res = await broken(path, { auth: true });
      const body = await res.json<{ error: string }>();
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(body.error).toBe("database_error");
    },
  );

  it("a write answers the same, and /health/ready reports the database as down", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const write = await broken("/api/books", { method: "POST", auth: true, json: { title: "T" } });
    expect(write.status).toBe(503);
    expect((await write.json<{ error: string }>()).error).toBe("database_error");
    const ready = await broken("/health/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { database: { status: "error" } } });
  });
});

describe("when D1 sessions fail but the bare binding answers (issue 23, finding 7)", () => {
  it("/health/ready is not ready, as every route answers 503", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = failingD1(() => new Error("Network connection lost."));
    const sessionsDown = withEnv({ DB: { ...broken, prepare: env.DB.prepare.bind(env.DB), batch: env.DB.batch.bind(env.DB) } });
    expect((await sessionsDown("/api/books", { auth: true })).status).toBe(503);
    const ready = await sessionsDown("/health/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { database: { status: "error" } } });
  });
});

describe("a rate-limit reset during a D1 outage (issue 23, finding 7)", () => {
  it("answers 503 and clears nothing: no budget is cleared without its audit row", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const limits = { RATE_LIMITS: JSON.stringify({ public: "1/minute" }) };
    const ip = uniqueIp();
    const healthy = withEnv(limits);
    expect((await healthy("/api/info", { ip })).status).toBe(200);
    expect((await healthy("/api/info", { ip })).status).toBe(429);
    const client = `ip:${addressForBudget(ip)}`;
    const reset = await withEnv({ ...limits, DB: failingD1(() => new Error("Network connection lost.")) })(
      `/api/admin/rate-limits/public/${encodeURIComponent(client)}`,
      { method: "DELETE", auth: true },
    );
    expect(reset.status).toBe(503);
    expect((await limiterFor(env, "public", client).peek(1, 60_000)).remaining).toBe(0);
  });
});
