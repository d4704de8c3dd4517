import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { addressForBudget } from "../../src/lib/client";
import { limiterFor } from "../../src/rate-limit/middleware";
import { bearer, createUser, loginAs } from "../fixtures";
import { errorShape, uniqueIp, withEnv } from "../helpers";
import { captureLogs } from "../integrations/fake-upstream";

afterEach(() => vi.restoreAllMocks());

// The default limits (RATE_LIMITS empty; RATE_LIMITING.md, "Tiers"), through the real app and Durable Object.
const defaults = withEnv({ RATE_LIMITS: "" });

/**
 * Restarts a limiter after rows were written straight into its storage, so it reads its log again
 * (it keeps the log's ends in memory, and only it writes its storage).
 */
async function restart(tier: "public", client: string) {
  await evictDurableObject(limiterFor(env, tier, client));
}

/** Writes `count` admitted requests `ageMs` in the past straight into a limiter's log. */
async function backdate(tier: "public", client: string, count: number, ageMs: number) {
  await runInDurableObject(limiterFor(env, tier, client), (instance, state) => {
    instance.check(1_000_000, 60_000); // creates the tables
    state.storage.sql.exec("DELETE FROM hits");
    for (let i = 0; i < count; i++) state.storage.sql.exec("INSERT INTO hits (at) VALUES (?)", Date.now() - ageMs);
  });
  await restart(tier, client);
}

/** Writes one admitted request per age (milliseconds in the past), oldest first, as the limiter appends them. */
async function backdateAges(tier: "public", client: string, agesMs: number[]) {
  await runInDurableObject(limiterFor(env, tier, client), (instance, state) => {
    instance.check(1_000_000, 60_000);
    state.storage.sql.exec("DELETE FROM hits");
    const now = Date.now();
    for (const age of [...agesMs].sort((a, b) => b - a)) state.storage.sql.exec("INSERT INTO hits (at) VALUES (?)", now - age);
  });
  await restart(tier, client);
}

describe("rate limiting", () => {
  it("answers the eleventh public request in a minute with 429, a real Retry-After and the draft headers", async () => {
    const ip = uniqueIp();
    for (let i = 1; i <= 10; i++) {
      const res = await defaults("/api/info", { ip });
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit-Policy")).toBe('"public";q=10;w=60');
      expect(res.headers.get("RateLimit")).toMatch(new RegExp(`^"public";r=${10 - i};t=(60|59)$`));
    }
    const limited = await defaults("/api/info", { ip });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject(errorShape(429, "rate_limit_exceeded"));
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("RateLimit")).toMatch(/^"public";r=0;t=\d+$/);
    expect(limited.headers.get("RateLimit-Policy")).toBe('"public";q=10;w=60');
  });

  it("says how long until the oldest request leaves the window, not a constant", async () => {
    const ip = uniqueIp();
    await backdate("public", `ip:${addressForBudget(ip)}`, 10, 45_000);
    const limited = await defaults("/api/info", { ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBe(15);
  });

  it("resets when the oldest of requests of different ages leaves the window, not the newest", async () => {
    // 45 s, 30 s and 10 s old: the oldest frees a slot in 15 s (the newest would say 50 s).
    const ip = uniqueIp();
    await backdateAges("public", `ip:${addressForBudget(ip)}`, [
      ...Array(4).fill(45_000),
      ...Array(3).fill(30_000),
      ...Array(3).fill(10_000),
    ]);
    const limited = await defaults("/api/info", { ip });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("15");
    expect(limited.headers.get("RateLimit")).toBe('"public";r=0;t=15');

    // Below the limit, the reset in the headers follows the oldest one as well.
    const other = uniqueIp();
    await backdateAges("public", `ip:${addressForBudget(other)}`, [40_000, 5_000]);
    const admitted = await defaults("/api/info", { ip: other });
    expect(admitted.status).toBe(200);
    expect(admitted.headers.get("RateLimit")).toBe('"public";r=7;t=20');
  });

  it("rounds a reset with a fraction of a second up, never down", async () => {
    // 14.45 s left: 15, where rounding or truncating would say 14 and let the client retry too early.
    const ip = uniqueIp();
    await backdate("public", `ip:${addressForBudget(ip)}`, 10, 45_550);
    const limited = await defaults("/api/info", { ip });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("15");
    expect(limited.headers.get("RateLimit")).toBe('"public";r=0;t=15');
  });

  it("is a rolling window: requests older than the window no longer count", async () => {
    const ip = uniqueIp();
    await backdate("public", `ip:${addressForBudget(ip)}`, 10, 60_001);
    const res = await defaults("/api/info", { ip });
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit")).toMatch(/^"public";r=9;/);
  });

  it("admits no more when the clock steps back: a request counted then leaves the window with the newest, not before it", async () => {
    const stub = limiterFor(env, "public", `ip:clock-${crypto.randomUUID()}`);
    const decisions = await runInDurableObject(stub, (instance) => {
      const t = Date.UTC(2031, 0, 1);
      return [instance.check(2, 60_000, t), instance.check(2, 60_000, t - 5_000), instance.check(2, 60_000, t + 56_000)];
    });
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ remaining: 0, resetMs: 4_000 });
  });

  it("admits exactly the limit out of 100 concurrent requests", async () => {
    const ip = uniqueIp();
    const twenty = withEnv({ RATE_LIMITS: JSON.stringify({ public: "20/minute" }) });
    const statuses = await Promise.all(Array.from({ length: 100 }, () => twenty("/api/info", { ip }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(80);
  });

  it("keeps its count across a Durable Object restart", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 6; i++) expect((await defaults("/api/info", { ip })).status).toBe(200);
    await evictDurableObject(limiterFor(env, "public", `ip:${addressForBudget(ip)}`));
    for (let i = 0; i < 4; i++) expect((await defaults("/api/info", { ip })).status).toBe(200);
    expect((await defaults("/api/info", { ip })).status).toBe(429);
  });

  it("counts each tier separately for the same client", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 10; i++) await defaults("/api/info", { ip });
    expect((await defaults("/api/info", { ip })).status).toBe(429);
    const health = await defaults("/health/live", { ip });
    expect(health.status).toBe(200);
    // A budget of its own: the public requests did not spend any of it.
    expect(health.headers.get("RateLimit")).toMatch(/^"health";r=99;/);
  });

  it("counts the root, which a browser opens first, in docs: opening it never spends the public budget of logins", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 12; i++) {
      const root = await defaults("/", { ip, headers: { Accept: "text/html" } });
      expect(root.status).toBe(302);
      expect(root.headers.get("RateLimit")).toMatch(/^"docs";/);
    }
    const info = await defaults("/api/info", { ip });
    expect(info.status).toBe(200);
    expect(info.headers.get("RateLimit")).toMatch(/^"public";r=9;/);
  });

  it("cleans up an idle client's storage with its alarm, and keeps what has not expired", async () => {
    const ip = uniqueIp();
    await defaults("/api/info", { ip });
    const stub = limiterFor(env, "public", `ip:${addressForBudget(ip)}`);
    // Not yet expired: the alarm keeps the request and re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT count(*) AS n FROM hits").one().n)).toBe(1);
    // Expired: the alarm empties the object.
    await backdate("public", `ip:${addressForBudget(ip)}`, 3, 61_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const tables = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('hits', 'meta')").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("honours RATE_LIMITS overrides and refuses a malformed value as a configuration error", async () => {
    const three = withEnv({ RATE_LIMITS: JSON.stringify({ public: "3/hour" }) });
    const ip = uniqueIp();
    const first = await three("/api/info", { ip });
    expect(first.headers.get("RateLimit-Policy")).toBe('"public";q=3;w=3600');

    for (const bad of [
      "{not json",
      JSON.stringify({ publik: "3/minute" }),
      JSON.stringify({ public: "often" }),
      JSON.stringify({ public: "0/minute" }),
    ]) {
      const res = await withEnv({ RATE_LIMITS: bad })("/api/info");
      expect(res.status, bad).toBe(503);
      expect(await res.json(), bad).toMatchObject(errorShape(503, "configuration_error"));
    }
    // The operator's log names the binding and what is wrong with it.
    expect(parseConfig({ ...env, RATE_LIMITS: "{not json" }).problems).toEqual(["RATE_LIMITS is not valid JSON"]);
  });

  describe("when the Durable Object fails", () => {
    const broken = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({
        check: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
        peek: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
      }),
    };
    const failing = withEnv({ RATE_LIMITS: "", RATE_LIMITER: broken });

    it("fails closed for the public tier", async () => {
      const logs = captureLogs();
      const res = await failing("/api/info");
      expect(res.status).toBe(503);
      expect(logs.map((line) => JSON.parse(line))).toContainEqual(
        expect.objectContaining({
          level: "warn",
          event: "rate_limiter_unavailable",
          tier: "public",
          policy: "fail_closed",
          error: "Durable Object reset because its code was updated",
        }),
      );
      expect(await res.json()).toMatchObject(errorShape(503, "service_unavailable"));
      expect(res.headers.get("Retry-After")).toBe("5");
    });

    it("fails open for the other tiers, without limit headers", async () => {
      const res = await failing("/health/live");
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit")).toBeNull();
    });
  });
});

describe("when the Durable Object hangs", () => {
  const hanging = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => ({ check: () => new Promise(() => {}), peek: () => new Promise(() => {}) }),
  };
  const stuck = withEnv({ RATE_LIMITS: "", RATE_LIMITER: hanging });

  it("gives up after the deadline and applies the same policy: closed for public, open for health", async () => {
    const logs = captureLogs();
    const [closed, open] = await Promise.all([stuck("/api/info"), stuck("/health/live")]);
    expect(closed.status).toBe(503);
    expect(open.status).toBe(200);
    expect(logs.map((line) => JSON.parse(line))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: "rate_limiter_unavailable",
          policy: "fail_closed",
          error: "The rate limiter did not answer in time",
        }),
        expect.objectContaining({
          event: "rate_limiter_unavailable",
          policy: "fail_open",
          error: "The rate limiter did not answer in time",
        }),
      ]),
    );
  });
});

describe("logged-in users", () => {
  it("are rate-limit clients of their own: two users behind one address do not share a budget", async () => {
    const three = withEnv({ RATE_LIMITS: JSON.stringify({ authenticated: "3/minute" }) });
    const [ada, bob] = await Promise.all([createUser("viewer"), createUser("viewer")]);
    const [adaToken, bobToken] = [await loginAs(ada), await loginAs(bob)];
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) expect((await three("/api/admin/me", { ip, headers: bearer(adaToken) })).status).toBe(200);
    expect((await three("/api/admin/me", { ip, headers: bearer(adaToken) })).status).toBe(429);
    // Same address, another user: a full budget.
    const first = await three("/api/admin/me", { ip, headers: bearer(bobToken) });
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit")).toMatch(/^"authenticated";r=2;/);
    // And the first user's budget follows the user to another address.
    expect((await three("/api/admin/me", { ip: uniqueIp(), headers: bearer(adaToken) })).status).toBe(429);
  });
});

describe("a list that searches (issue 23, finding 6)", () => {
  it("GET /api/books?search= is counted in the search tier, with /api/books/search; without a search, in authenticated", async () => {
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ search: "2/minute", authenticated: "100/minute" }) });
    const headers = bearer(await loginAs(await createUser("viewer")));
    const first = await send("/api/books?search=dune&limit=1", { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"search";q=2;w=60');
    expect((await send("/api/books/search?query=dune", { headers })).status).toBe(200);
    expect((await send("/api/books?search=dune&limit=1", { headers })).status).toBe(429);
    // A blank search filters nothing: the plain list, in its own tier.
    const plain = await send("/api/books?search=%20&limit=1", { headers });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("RateLimit-Policy")).toBe('"authenticated";q=100;w=60');
  });
});
