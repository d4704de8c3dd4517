import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BUNDLED_MIGRATIONS } from "../../src/services/health";
import { call, errorShape, withEnv } from "../helpers";

/** A D1 binding whose every query fails, as when the database is unreachable (a session opens, as on the real binding). */
const unreachable = {
  prepare: () => ({
    first: () => Promise.reject(new Error("D1_ERROR: Network connection lost.")),
    all: () => Promise.reject(new Error("D1_ERROR: Network connection lost.")),
    bind() {
      return this;
    },
  }),
};
const unreachableDb = { ...unreachable, withSession: () => unreachable };
/** A D1 binding that never answers. */
const hanging = { prepare: () => ({ first: () => new Promise(() => {}), all: () => new Promise(() => {}) }) };
const hangingDb = { ...hanging, withSession: () => hanging };

describe("GET /health/live", () => {
  it("answers alive without credentials and touches nothing", async () => {
    const res = await withEnv({ DB: unreachableDb })("/health/live");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "alive",
      version: expect.any(String),
      worker_version: { id: expect.any(String), tag: null },
      timestamp: expect.any(String),
    });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("answers HEAD, and a trailing slash", async () => {
    const head = await call("/health/live", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await call("/health/live/")).status).toBe(200);
  });
});

describe("the Worker version in the probes", () => {
  const metadata = { id: "5a9cbb50-4f68-4b4e-9d6c-6d1e7b2f0a11", tag: "a1b2c3d", timestamp: "2026-11-29T12:00:00.000Z" };

  it("is the version_metadata binding's id and tag in /health/live, /health/ready and /health", async () => {
    for (const path of ["/health/live", "/health/ready", "/health"]) {
      const res = await withEnv({ CF_VERSION_METADATA: metadata })(path);
      expect(res.status, path).toBe(200);
      expect((await res.json<{ worker_version: unknown }>()).worker_version, path).toEqual({ id: metadata.id, tag: "a1b2c3d" });
    }
  });

  it("comes from the real binding of wrangler.toml (an id, no tag locally)", async () => {
    expect(env.CF_VERSION_METADATA.id).toMatch(/^[0-9a-f-]{36}$/);
    const body = await (await call("/health/live")).json<{ worker_version: { id: string } }>();
    expect(body.worker_version.id).toBe(env.CF_VERSION_METADATA.id);
  });
});

describe("GET /health/ready", () => {
  it("is ready with the database up, every migration applied and a valid configuration", async () => {
    const res = await call("/health/ready");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toMatchObject({
      status: "ready",
      checks: {
        database: { status: "ok", latency_ms: expect.any(Number) },
        migrations: { status: "ok", applied: BUNDLED_MIGRATIONS.length },
        configuration: { status: "ok" },
      },
    });
  });

  it("is not ready when the database fails", async () => {
    const res = await withEnv({ DB: unreachableDb })("/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: "not_ready",
      checks: { database: { status: "error" }, migrations: { status: "error" } },
    });
  });

  it("is not ready when the database hangs (the check times out)", async () => {
    const res = await withEnv({ DB: hangingDb })("/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "not_ready", checks: { database: { status: "error" } } });
  });

  it("is not ready when migrations are not applied, and lists the pending ones", async () => {
    const res = await withEnv({ DB: env.EMPTY_DB })("/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: "not_ready",
      checks: { database: { status: "ok" }, migrations: { status: "error", pending: [...BUNDLED_MIGRATIONS] } },
    });
  });
});

describe("GET /health", () => {
  it("is healthy with every check ok", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "healthy",
      version: expect.any(String),
      timestamp: expect.any(String),
      checks: { database: { status: "ok" }, migrations: { status: "ok" }, configuration: { status: "ok" }, rate_limiter: { status: "ok" } },
    });
  });

  it("is unhealthy (503) when the database fails", async () => {
    const res = await withEnv({ DB: unreachableDb })("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "unhealthy", checks: { database: { status: "error" } } });
  });

  it("is degraded (200) when only the rate limiter fails", async () => {
    const broken = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({ check: () => Promise.reject(new Error("down")), peek: () => Promise.reject(new Error("down")) }),
    };
    const res = await withEnv({ RATE_LIMITER: broken })("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "degraded", checks: { rate_limiter: { status: "warning" } } });
  });
});

describe("GET /api/system/health", () => {
  it("needs credentials and answers the component detail in the envelope", async () => {
    expect(await (await call("/api/system/health")).json()).toMatchObject(errorShape(401, "unauthorized"));
    const res = await call("/api/system/health", { auth: true });
    expect(await res.json()).toMatchObject({
      success: true,
      error: null,
      data: { status: "healthy", environment: "development", checks: { database: { status: "ok" } } },
    });
  });
});
