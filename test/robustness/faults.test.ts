import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { D1_TIMEOUT_MS } from "../../src/db/client";
import { TIERS, type Tier } from "../../src/rate-limit/tiers";
import { ROUTE_POLICIES } from "../../src/route-policy";
import { unique } from "../fixtures";
import { type CallOptions, withEnv } from "../helpers";
import { assertErrorBody } from "./support";

// The service when what it stands on fails: the database (erroring, or never answering), the
// rate-limit Durable Object; and, across all of it, that no secret ever leaves in a response or a log.

/** Secrets as production requires them: long, random, no example markers. */
const secret = () => Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
// The tests' raised limits (vitest.config.ts): these tests are about failures, not budgets, and the
// operator's budget is one Durable Object shared by every env object here.
const PROD = { ENVIRONMENT: "production", API_KEY: secret(), JWT_SECRET: secret(), PASSWORD_SALT: secret(), RATE_LIMITS: env.RATE_LIMITS };
const prodKey = { "X-API-Key": PROD.API_KEY };

/** A D1 binding whose every call fails as D1 fails when the database is unreachable. */
const d1Error = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
const failingD1 = {
  prepare() {
    const statement = { bind: () => statement, all: d1Error, raw: d1Error, run: d1Error, first: d1Error };
    return statement;
  },
  batch: d1Error,
  exec: d1Error,
  // Opening a session is local, as on the real binding; its first query fails.
  withSession: () => ({ prepare: failingD1.prepare, batch: d1Error, getBookmark: () => null }),
};
/** A D1 binding whose calls never settle. */
const never = () => new Promise<never>(() => {});
const hangingD1 = {
  prepare() {
    const statement = { bind: () => statement, all: never, raw: never, run: never, first: never };
    return statement;
  },
  batch: never,
  exec: never,
  withSession: () => ({ prepare: hangingD1.prepare, batch: never, getBookmark: () => null }),
};

const magnet = () => `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "")}`;
type Probe = [string, CallOptions];
const json = (method: string, body: unknown): CallOptions => ({ method, json: body });

/** A read and a write of every data area (system has only reads). */
const DATA_ROUTES: Probe[] = [
  ["/api/books", {}],
  ["/api/books", json("POST", { title: "T" })],
  ["/api/series", {}],
  ["/api/series", json("POST", { name: "S" })],
  ["/api/authors", {}],
  ["/api/authors", json("POST", { name: "A" })],
  ["/api/downloads", {}],
  ["/api/downloads", json("POST", { title: "D", source: "MAM", magnet_link: magnet() })],
  ["/api/gaps/report", {}],
  ["/api/gaps/analyze", { method: "POST" }],
  ["/api/scheduler/tasks", {}],
  ["/api/scheduler/trigger/SERIES", { method: "POST" }],
  ["/api/scheduler/task/GAPS/pause", { method: "PUT" }],
  ["/api/admin/users", {}],
  ["/api/admin/api-keys", json("POST", { name: "k", role: "viewer" })],
  ["/api/metadata/status", {}],
  ["/api/metadata/cleanup-old", { method: "DELETE" }],
  ["/api/system/stats", {}],
  ["/api/system/storage", {}],
];

const INTERNALS = /D1_|SQLITE|Network connection lost|did not answer within|Error:|\bat \w|stack|select |insert |update |from "/i;

async function expectDatabaseError(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what} → ${text}`).toBe(503);
  const body = JSON.parse(text);
  assertErrorBody(body, 503, { production: true });
  expect(body.error, what).toBe("database_error");
  expect(res.headers.get("X-Request-ID"), what).toBe(body.request_id);
  expect(text, what).not.toMatch(INTERNALS);
  for (const value of [PROD.API_KEY, PROD.JWT_SECRET, PROD.PASSWORD_SALT]) expect(text, what).not.toContain(value);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The error log lines, kept out of the test output; each failed request must leave one. */
function captureErrors(): () => { code?: string; event?: string }[] {
  const lines: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
  return () => lines.map((line) => JSON.parse(line));
}

describe("when D1 fails", () => {
  const broken = withEnv({ ...PROD, DB: failingD1 });

  it.each(DATA_ROUTES)("%s answers 503 database_error without internals (%o), and logs the cause", async (path, options) => {
    const logged = captureErrors();
    const res = await broken(path, { ...options, headers: prodKey });
    await expectDatabaseError(res, `${options.method ?? "GET"} ${path}`);
    expect(logged()).toEqual([expect.objectContaining({ event: "request_failed", code: "database_error" })]);
  });

  it("logs the D1 error, not the query's bound values", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    const marker = unique("private-name");
    await expectDatabaseError(await broken("/api/admin/login", json("POST", { username: marker, password: "x" })), "login");
    expect(lines.join("\n")).toContain("Network connection lost");
    expect(lines.join("\n")).not.toContain(marker);
  });

  it("fails the login (public) the same way, and readiness and health fail", async () => {
    captureErrors();
    await expectDatabaseError(await broken("/api/admin/login", json("POST", { username: "ada", password: "x" })), "login");
    const ready = await broken("/health/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not_ready", checks: { database: { status: "error" } } });
    const health = await broken("/health");
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "unhealthy" });
    // The liveness probe touches nothing.
    expect((await broken("/health/live")).status).toBe(200);
  });
});

describe("when D1 never answers", () => {
  it(`gives up after ${D1_TIMEOUT_MS / 1000} s: every data route answers 503 database_error, readiness fails`, async () => {
    const logged = captureErrors();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    // Fake timers move every deadline, the rate limiter's too: an answering limiter keeps this test about D1.
    const admitAll = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({
        check: async (limit: number, windowMs: number) => ({ allowed: true, limit, remaining: limit - 1, resetMs: windowMs }),
      }),
    };
    const hanging = withEnv({ ...PROD, DB: hangingD1, RATE_LIMITER: admitAll });
    let settled = 0;
    const requests = [...DATA_ROUTES, ["/api/admin/login", json("POST", { username: "ada", password: "x" })] as Probe].map(
      ([path, options]) => hanging(path, { ...options, headers: path === "/api/admin/login" ? {} : prodKey }).finally(() => settled++),
    );
    const ready = hanging("/health/ready").finally(() => settled++);
    // Each request reaches D1 after real I/O (the rate limiter), so time moves on in steps until all have answered.
    for (let round = 0; settled < requests.length + 1 && round < 200; round++) {
      await vi.advanceTimersByTimeAsync(D1_TIMEOUT_MS);
      await scheduler.wait(5);
    }
    const answers = await Promise.all(requests);
    for (const [i, res] of answers.entries()) await expectDatabaseError(res, `hanging ${DATA_ROUTES[i]?.[0] ?? "login"}`);
    expect(logged().filter((l) => l.code === "database_error")).toHaveLength(answers.length);
    const readiness = await ready;
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: "not_ready", checks: { database: { status: "error" } } });
  });
});

describe("when the rate-limit Durable Object fails", () => {
  const brokenLimiter = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => ({
      check: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
      peek: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
      clear: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
    }),
  };
  const app = withEnv({ ...PROD, RATE_LIMITER: brokenLimiter });

  /** One route of each tier, with what it takes to succeed. */
  const BY_TIER: Record<Tier, [string, string, CallOptions]> = {
    public: ["GET /api/info", "/api/info", {}],
    upload: ["POST /api/books/import", "/api/books/import", json("POST", [{ abs_id: unique("abs"), title: "T" }])],
    authenticated: ["GET /api/books", "/api/books", {}],
    admin: ["GET /api/admin/users", "/api/admin/users", {}],
    download: ["POST /api/downloads", "/api/downloads", json("POST", { title: "D", source: "MAM", magnet_link: magnet() })],
    metadata: ["GET /api/metadata/status", "/api/metadata/status", {}],
    search: ["GET /api/books/search", "/api/books/search?query=dune", {}],
    health: ["GET /health/live", "/health/live", {}],
    docs: ["GET /openapi.json", "/openapi.json", {}],
  };

  // Written out here, never read from FAIL_CLOSED_TIERS: the test must not change along with a bug.
  const POLICY: Record<Tier, "closed" | "open"> = {
    public: "closed",
    upload: "closed",
    authenticated: "open",
    admin: "open",
    download: "open",
    metadata: "open",
    search: "open",
    health: "open",
    docs: "open",
  };

  it("has a route for every tier, of that tier", () => {
    expect(Object.keys(POLICY).sort()).toEqual([...TIERS].sort());
    expect(Object.keys(BY_TIER).sort()).toEqual([...TIERS].sort());
    for (const [tier, [route]] of Object.entries(BY_TIER)) expect(ROUTE_POLICIES[route]?.tier, route).toBe(tier);
  });

  it.each(TIERS)("%s: fails closed (503) for public and upload, open for the rest", async (tier) => {
    const [route, path, options] = BY_TIER[tier];
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await app(path, { ...options, headers: ROUTE_POLICIES[route]!.access === "public" ? {} : prodKey });
    const text = await res.text();
    if (POLICY[tier] === "closed") {
      expect(res.status, text).toBe(503);
      const body = JSON.parse(text);
      assertErrorBody(body, 503, { production: true });
      expect(body.error).toBe("service_unavailable");
      expect(res.headers.get("Retry-After")).toBe("5");
    } else {
      expect(res.status, text).toBeGreaterThanOrEqual(200);
      expect(res.status, text).toBeLessThan(300);
      expect(res.headers.get("RateLimit")).toBeNull();
    }
    expect(res.headers.get("X-Request-ID")).toBeTruthy();
    const warned = warn.mock.calls.map((args) => JSON.parse(String(args[0])));
    expect(warned).toContainEqual(expect.objectContaining({ event: "rate_limiter_unavailable", tier, policy: `fail_${POLICY[tier]}` }));
  });
});

describe("no secret leaves the service", () => {
  /** Every route of the table, as a request: params filled with plausible values, `{}` for bodies. */
  const ROUTES = Object.keys(ROUTE_POLICIES).map((key) => {
    const [method, pattern] = key.split(" ") as [string, string];
    const path = pattern
      .replace(":tier", "public")
      .replace(":client", "operator")
      .replace(":name", pattern.startsWith("/api/scheduler") ? "SERIES" : "Dune")
      .replace(/:\w+/g, "1");
    return { key, method, path };
  });

  const secretsOf = (e: { API_KEY: string; JWT_SECRET: string; PASSWORD_SALT: string }) =>
    [e.API_KEY, e.JWT_SECRET, e.PASSWORD_SALT].flatMap((value) => [value, encodeURIComponent(value), btoa(`admin:${value}`)]);

  /** The places a credential travels, right and nearly right (a leak would echo them). */
  function credentials(key: string, jwtSecret: string): Record<string, Record<string, string>> {
    return {
      none: {},
      key: { "X-API-Key": key },
      basic: { Authorization: `Basic ${btoa(`admin:${key}`)}` },
      "near-miss key": { "X-API-Key": `${key}x` },
      "near-miss basic": { Authorization: `Basic ${btoa(`root:${key}`)}` },
      "secret as bearer": { Authorization: `Bearer ${jwtSecret}` },
    };
  }

  it("in no response body or header, and in no log line, across every route and error path", { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation(
        (...args: unknown[]) =>
          void lines.push(
            args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "),
          ),
      );
    }
    const devSecrets = { API_KEY: env.API_KEY, JWT_SECRET: env.JWT_SECRET, PASSWORD_SALT: env.PASSWORD_SALT };
    const brokenLimiter = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: () => ({
        check: () => Promise.reject(new Error("down")),
        peek: () => Promise.reject(new Error("down")),
        clear: () => Promise.reject(new Error("down")),
      }),
    };
    const settings: { name: string; send: ReturnType<typeof withEnv>; secrets: typeof devSecrets }[] = [
      { name: "development", send: withEnv({}), secrets: devSecrets },
      { name: "development, D1 failing", send: withEnv({ DB: failingD1 }), secrets: devSecrets },
      { name: "production", send: withEnv(PROD), secrets: PROD },
      { name: "production, D1 failing", send: withEnv({ ...PROD, DB: failingD1 }), secrets: PROD },
      { name: "production, limiter failing", send: withEnv({ ...PROD, RATE_LIMITER: brokenLimiter }), secrets: PROD },
      // A production configuration error: one secret too short, the others must not leak either.
      {
        name: "production, JWT_SECRET too short",
        send: withEnv({ ...PROD, JWT_SECRET: "short" }),
        secrets: { ...PROD, JWT_SECRET: PROD.API_KEY },
      },
    ];
    let sent = 0;
    const statuses = new Map<number, number>();
    for (const [s, setting] of settings.entries()) {
      const secrets = secretsOf(setting.secrets);
      const production = setting.name.startsWith("production");
      const ways = Object.entries(credentials(setting.secrets.API_KEY, setting.secrets.JWT_SECRET));
      for (const [r, route] of ROUTES.entries()) {
        // Every route with the right key, and with one of the other ways in turn (each way on a sixth of the routes).
        const others = ways.filter(([how]) => how !== "key");
        for (const [how, headers] of [ways.find(([how]) => how === "key")!, others[(r + s) % others.length]!]) {
          const withBody = route.method !== "GET" && route.method !== "HEAD";
          const res = await setting.send(route.path, { method: route.method, headers, ...(withBody ? { json: {} } : {}) });
          sent++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${setting.name}: ${route.key} (${how}) → ${res.status}`;
          const text = await res.text();
          const head = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
          for (const value of secrets) {
            expect(text.includes(value), `${what}: body carries a secret`).toBe(false);
            expect(head.includes(value), `${what}: a header carries a secret`).toBe(false);
          }
          if (production && res.status >= 400 && res.headers.get("Content-Type")?.startsWith("application/json")) {
            expect(text, what).not.toMatch(/API_KEY|JWT_SECRET|PASSWORD_SALT/);
            const body = JSON.parse(text);
            if ("error" in body) assertErrorBody(body, res.status, { production: true });
          }
        }
      }
    }
    expect(sent).toBe(settings.length * ROUTES.length * 2);
    // The sweep reached handlers and error paths alike, and was never throttled.
    expect(statuses.get(200)).toBeGreaterThan(ROUTES.length);
    expect(statuses.get(503)).toBeGreaterThan(ROUTES.length);
    expect(statuses.has(429)).toBe(false);
    const all = lines.join("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const value of [...secretsOf(devSecrets), ...secretsOf(PROD)])
      expect(all.includes(value), "a log line carries a secret").toBe(false);
  });
});
