import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { addressForBudget } from "../../src/lib/client";
import { limiterFor } from "../../src/rate-limit/middleware";
import { refusedFor, rememberRefusal } from "../../src/rate-limit/refusals";
import { API_KEY, errorShape, uniqueIp, withEnv } from "../helpers";

/** The real limiter namespace, counting the calls made on its objects' stubs. */
function countingLimiter() {
  const calls: string[] = [];
  const namespace = new Proxy(env.RATE_LIMITER, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "get") return typeof value === "function" ? value.bind(target) : value;
      return (id: DurableObjectId) => {
        const stub = target.get(id);
        return new Proxy(stub, {
          get(s, method) {
            const member = Reflect.get(s, method);
            if (typeof method !== "string" || method === "then" || typeof member !== "function") return member;
            // Called as a method of the stub: an RPC method stub has no `apply` of its own.
            return (...args: unknown[]) => {
              calls.push(method);
              return (s as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
            };
          },
        });
      };
    },
  });
  return { calls, namespace };
}

describe("refusals answered by the isolate", () => {
  afterEach(() => vi.useRealTimers());

  it("asks the Durable Object nothing while refused, and asks it again once Retry-After has passed", async () => {
    // The clock is given, not read: the isolate's memory and the object share this isolate's Date,
    // so a loaded machine cannot stretch the 1-second window under the test.
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.UTC(2030, 0, 1);
    vi.setSystemTime(start);
    const { calls, namespace } = countingLimiter();
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ public: "2/second" }), RATE_LIMITER: namespace });
    const ip = uniqueIp();

    expect((await send("/api/info", { ip })).status).toBe(200);
    expect((await send("/api/info", { ip })).status).toBe(200);
    const refused = await send("/api/info", { ip });
    expect(refused.status).toBe(429);
    expect(calls).toEqual(["check", "check", "check"]);

    // The same refusal, from the isolate: the standard 429, the headers, no call.
    for (let i = 0; i < 5; i++) {
      const local = await send("/api/info", { ip });
      expect(local.status).toBe(429);
      expect(await local.json()).toMatchObject(errorShape(429, "rate_limit_exceeded"));
      expect(local.headers.get("Retry-After")).toBe("1");
      expect(local.headers.get("RateLimit-Policy")).toBe('"public";q=2;w=1');
      expect(local.headers.get("RateLimit")).toBe('"public";r=0;t=1');
    }
    expect(calls).toHaveLength(3);

    // Still refused just before the window ends, from memory; admitted once it has.
    vi.setSystemTime(start + 999);
    expect((await send("/api/info", { ip })).status).toBe(429);
    expect(calls).toHaveLength(3);
    vi.setSystemTime(start + Number(refused.headers.get("Retry-After")) * 1000);
    const again = await send("/api/info", { ip });
    expect(again.status).toBe(200);
    expect(calls).toHaveLength(4);
  });

  it("refuses only that client in that tier", async () => {
    const { calls, namespace } = countingLimiter();
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/minute", health: "1/minute" }), RATE_LIMITER: namespace });
    const ip = uniqueIp();
    expect((await send("/api/info", { ip })).status).toBe(200);
    expect((await send("/api/info", { ip })).status).toBe(429);
    expect((await send("/api/info", { ip: uniqueIp() })).status).toBe(200); // another client
    expect((await send("/health/live", { ip })).status).toBe(200); // another tier
    expect(calls).toHaveLength(4);
  });

  it("never admits more than the limit: a stream of requests over three windows, at given times", async () => {
    // The object and the isolate's memory, driven as consume() drives them (src/rate-limit/middleware.ts),
    // with the time given: a request every 20 ms for three 1-second windows of 3.
    const [limit, windowMs] = [3, 1_000];
    const client = `ip:stream-${crypto.randomUUID()}`;
    const limiter = limiterFor(env, "public", client);
    const start = Date.UTC(2030, 0, 1);
    const admitted: number[] = [];
    for (let at = start; at < start + 3_000; at += 20) {
      if (refusedFor("public", client, limit, windowMs, at) !== undefined) continue;
      const decision = await limiter.check(limit, windowMs, at);
      if (decision.allowed) admitted.push(at);
      else rememberRefusal("public", client, limit, windowMs, at, decision.resetMs);
    }
    await limiter.clear();
    for (const from of admitted) expect(admitted.filter((t) => t >= from && t < from + windowMs).length).toBeLessThanOrEqual(limit);
    // ...and the local answers never refused what the object would admit: each window admitted its 3.
    expect(admitted.map((t) => t - start)).toEqual([0, 20, 40, 1_000, 1_020, 1_040, 2_000, 2_020, 2_040]);
  });

  it("a change of limits is a new budget: the remembered refusal does not apply to it", async () => {
    const { calls, namespace } = countingLimiter();
    const ip = uniqueIp();
    const strict = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/minute" }), RATE_LIMITER: namespace });
    expect((await strict("/api/info", { ip })).status).toBe(200);
    expect((await strict("/api/info", { ip })).status).toBe(429);
    const raised = withEnv({ RATE_LIMITS: JSON.stringify({ public: "5/minute" }), RATE_LIMITER: namespace });
    expect((await raised("/api/info", { ip })).status).toBe(200);
    expect(calls).toHaveLength(3);
  });

  it("a changed window with the same count is a new budget too: the caller is told the new window's wait", async () => {
    const { calls, namespace } = countingLimiter();
    const ip = uniqueIp();
    const perMinute = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/minute" }), RATE_LIMITER: namespace });
    expect((await perMinute("/api/info", { ip })).status).toBe(200);
    expect(Number((await perMinute("/api/info", { ip })).headers.get("Retry-After"))).toBeLessThanOrEqual(60);
    const perHour = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/hour" }), RATE_LIMITER: namespace });
    const refused = await perHour("/api/info", { ip });
    expect(refused.status).toBe(429);
    // The object decides under the hour: its one request leaves the window an hour after it came.
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(3_500);
    expect(calls).toHaveLength(3);
  });

  it("an admin's clear forgets this isolate's refusal at once", async () => {
    const { calls, namespace } = countingLimiter();
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/minute" }), RATE_LIMITER: namespace });
    const ip = uniqueIp();
    expect((await send("/api/info", { ip })).status).toBe(200);
    expect((await send("/api/info", { ip })).status).toBe(429);
    const cleared = await send(`/api/admin/rate-limits/public/${encodeURIComponent(`ip:${addressForBudget(ip)}`)}`, {
      method: "DELETE",
      headers: { "X-API-Key": API_KEY },
    });
    expect(cleared.status).toBe(200);
    const before = calls.length;
    expect((await send("/api/info", { ip })).status).toBe(200);
    expect(calls.length).toBe(before + 1);
  });

  it("remembers at most the 10,000 newest refusals: a flood of clients forgets the oldest, and a client refused again is new", () => {
    // Driven as consume() drives it, with the times given; the flood replaces every refusal the other tests left.
    const [limit, windowMs, at] = [1, 60_000, Date.UTC(2030, 0, 1)];
    const flood = Array.from({ length: 10_000 }, (_, i) => `ip:flood-${i}-${crypto.randomUUID()}`);
    for (const client of flood) rememberRefusal("public", client, limit, windowMs, at, windowMs);
    const refused = (client: string) => refusedFor("public", client, limit, windowMs, at + 1_000) !== undefined;
    expect(refused(flood[0]!)).toBe(true);
    expect(refused(flood[9_999]!)).toBe(true);

    // The sixth oldest is refused again: now the newest. Six more clients push out the six oldest, and it is not one of them.
    rememberRefusal("public", flood[5]!, limit, windowMs, at, windowMs);
    for (let i = 0; i < 6; i++) rememberRefusal("public", `ip:late-${i}-${crypto.randomUUID()}`, limit, windowMs, at, windowMs);
    expect([0, 4, 5, 6, 7].map((i) => refused(flood[i]!))).toEqual([false, false, true, false, true]);
  });

  it("an expired refusal, once looked up, leaves the memory: it pushes no live refusal out", () => {
    const [limit, windowMs, at] = [1, 60_000, Date.UTC(2030, 1, 1)];
    const id = () => crypto.randomUUID();
    // A full memory: a live refusal, a short one (1 s), then live ones; the flood replaces what other tests left.
    const first = `ip:first-${id()}`;
    const short = `ip:short-${id()}`;
    rememberRefusal("public", first, limit, windowMs, at, windowMs);
    rememberRefusal("public", short, limit, windowMs, at, 1_000);
    for (let i = 0; i < 9_998; i++) rememberRefusal("public", `ip:live-${i}-${id()}`, limit, windowMs, at, windowMs);
    const later = at + 2_000;
    expect(refusedFor("public", short, limit, windowMs, later)).toBeUndefined();
    // One more client takes the place the expired one left; the oldest live refusal stays.
    rememberRefusal("public", `ip:new-${id()}`, limit, windowMs, at, windowMs);
    expect(refusedFor("public", first, limit, windowMs, later)).toBe(windowMs - 2_000);
  });
});
