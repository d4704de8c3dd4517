import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, createUser, loginAs, unique } from "../fixtures";
import { API_KEY, call, countingD1, uniqueIp, withEnv } from "../helpers";

/** A named key with the given role, made through the admin API. */
async function namedKey(role: "viewer" | "operator" = "viewer") {
  const res = await call("/api/admin/api-keys", { method: "POST", auth: true, json: { name: unique("clients"), role } });
  const { api_key } = (await res.json<{ data: { api_key: { id: number; key: string } } }>()).data;
  return api_key;
}

describe("who a budget belongs to", () => {
  it("a named key's budget is the key's own: a wrong key with the same prefix spends none of it, and admins see it as key:<id>", async () => {
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ authenticated: "2/minute" }) });
    const key = await namedKey();
    expect((await send("/api/books?limit=1", { headers: { "X-API-Key": key.key } })).status).toBe(200);
    const forged = `${key.key.slice(0, 12)}${"x".repeat(key.key.length - 12)}`;
    for (let i = 0; i < 3; i++) expect((await send("/api/books?limit=1", { headers: { "X-API-Key": forged } })).status).toBe(401);
    expect((await send("/api/books?limit=1", { headers: { "X-API-Key": key.key } })).status).toBe(200);
    const refused = await send("/api/books?limit=1", { headers: { "X-API-Key": key.key } });
    expect(refused.status).toBe(429);

    const inspect = await send(`/api/admin/rate-limits/authenticated/key:${key.id}`, { headers: { "X-API-Key": API_KEY } });
    expect(inspect.status).toBe(200);
    expect((await inspect.json<{ data: Record<string, unknown> }>()).data).toMatchObject({
      client: `key:${key.id}`,
      count: 2,
      remaining: 0,
    });
    const cleared = await send(`/api/admin/rate-limits/authenticated/key:${key.id}`, {
      method: "DELETE",
      headers: { "X-API-Key": API_KEY },
    });
    expect(cleared.status).toBe(200);
    expect((await send("/api/books?limit=1", { headers: { "X-API-Key": key.key } })).status).toBe(200);
  });

  it("an unknown key id is 404 for the admin", async () => {
    const res = await call("/api/admin/rate-limits/authenticated/key:999999999", { auth: true });
    expect(res.status).toBe(404);
  });

  it("a user's budget follows the verified token subject: two logins share one budget", async () => {
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ authenticated: "2/minute" }) });
    const user = await createUser("viewer");
    const [first, second] = [await loginAs(user), await loginAs(user)];
    expect((await send("/api/books?limit=1", { headers: bearer(first) })).status).toBe(200);
    expect((await send("/api/books?limit=1", { headers: bearer(second) })).status).toBe(200);
    expect((await send("/api/books?limit=1", { headers: bearer(first) })).status).toBe(429);
    const inspect = await send(`/api/admin/rate-limits/authenticated/user:${user.id}`, { headers: { "X-API-Key": API_KEY } });
    expect((await inspect.json<{ data: Record<string, unknown> }>()).data).toMatchObject({ count: 2, remaining: 0 });
  });

  it("a refused caller's request reads nothing: the lookup is skipped once the isolate knows the refusal", async () => {
    const key = await namedKey();
    let queries = 0;
    const countingDb = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: (s: D1PreparedStatement[]) => env.DB.batch(s),
      withSession: (constraint?: string) => {
        const session = env.DB.withSession(constraint);
        return {
          prepare: (sql: string) => {
            queries += 1;
            return session.prepare(sql);
          },
          batch: (s: D1PreparedStatement[]) => session.batch(s),
          getBookmark: () => session.getBookmark(),
        };
      },
    };
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ authenticated: "1/minute" }), DB: countingDb });
    const headers = { "X-API-Key": key.key };
    expect((await send("/api/books?limit=1", { headers })).status).toBe(200);
    expect((await send("/api/books?limit=1", { headers })).status).toBe(429);
    const before = queries;
    expect((await send("/api/books?limit=1", { headers })).status).toBe(429);
    expect(queries).toBe(before);
  });
});

describe("keys not yet verified (issue 23, finding 4)", () => {
  /** The real limiter namespace, recording the name of every object asked for. */
  function namingLimiter() {
    const names: string[] = [];
    const namespace = new Proxy(env.RATE_LIMITER, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (prop === "idFromName")
          return (name: string) => {
            names.push(name);
            return target.idFromName(name);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return { names, namespace };
  }

  it("never name a limiter object, and cost no lookup once their address is refused", async () => {
    const { names, namespace } = namingLimiter();
    let statements = 0;
    const send = withEnv({
      RATE_LIMITS: JSON.stringify({ public: "3/minute" }),
      RATE_LIMITER: namespace,
      DB: countingD1(() => statements++),
    });
    const ip = uniqueIp();
    const guesses = Array.from({ length: 6 }, () => `mam_${crypto.randomUUID().replace(/-/g, "")}`);
    const statuses: number[] = [];
    for (const key of guesses.slice(0, 4)) statuses.push((await send("/api/books?limit=1", { ip, headers: { "X-API-Key": key } })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);

    // Refused: later guesses from that address cost neither a database statement nor a limiter.
    const [statementsBefore, namesBefore] = [statements, names.length];
    for (const key of guesses.slice(4)) expect((await send("/api/books?limit=1", { ip, headers: { "X-API-Key": key } })).status).toBe(429);
    expect(statements).toBe(statementsBefore);
    expect(names).toHaveLength(namesBefore);

    // Every object asked for is the address's, none a guessed key's.
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((name) => name.startsWith("public:ip:"))).toBe(true);
  });

  it("a named key from a refused address waits with it; the operator key, verified without a lookup, does not", async () => {
    const send = withEnv({ RATE_LIMITS: JSON.stringify({ public: "1/minute" }) });
    const ip = uniqueIp();
    const key = await namedKey();
    const guess = { "X-API-Key": `mam_${crypto.randomUUID().replace(/-/g, "")}` };
    expect((await send("/api/books?limit=1", { ip, headers: guess })).status).toBe(401);
    expect((await send("/api/books?limit=1", { ip, headers: guess })).status).toBe(429);
    // The isolate's refusal of the address applies before the lookup of an unverified key...
    expect((await send("/api/books?limit=1", { ip, headers: { "X-API-Key": key.key } })).status).toBe(429);
    // ...but the operator key and tokens, verified without a lookup, are not the address's guesses.
    expect((await send("/api/books?limit=1", { ip, headers: { "X-API-Key": API_KEY } })).status).toBe(200);
  });
});
