import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bearer, createUser, loginAs } from "../fixtures";
import { API_KEY, call, errorShape, uniqueIp, withEnv } from "../helpers";

const PROTECTED = "/api/system/health";
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}, secret = env.JWT_SECRET) =>
  sign({ sub: "1", username: "ada", role: "admin", jti: crypto.randomUUID(), iat: now(), exp: now() + 1800, ...claims }, secret, "HS256");
const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

describe("authentication", () => {
  it("accepts the operator key in X-API-Key", async () => {
    const res = await call(PROTECTED, { auth: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true, data: { status: expect.any(String) } });
  });

  it("accepts HTTP Basic admin:<key> and refuses any other user name", async () => {
    expect((await call(PROTECTED, { headers: { Authorization: basic("admin", API_KEY) } })).status).toBe(200);
    const other = await call(PROTECTED, { headers: { Authorization: basic("root", API_KEY) } });
    expect(other.status).toBe(401);
    expect(await other.json()).toMatchObject(errorShape(401, "invalid_credentials"));
  });

  it("answers 401 with a Basic challenge when no credentials are sent", async () => {
    const res = await call(PROTECTED);
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    expect(await res.json()).toMatchObject(errorShape(401, "unauthorized"));
  });

  it("refuses a wrong key, a key differing only in length, and an empty key", async () => {
    for (const key of ["wrong", `${API_KEY}x`, API_KEY.slice(0, -1), ""]) {
      const res = await call(PROTECTED, { headers: { "X-API-Key": key } });
      expect(res.status, key).toBe(401);
      expect(await res.json()).toMatchObject(errorShape(401, "invalid_credentials"));
    }
  });

  it("an empty X-API-Key does not hide a valid Bearer token sent beside it (issue 23, finding 7)", async () => {
    const headers = { ...bearer(await loginAs(await createUser("viewer"))), "X-API-Key": "" };
    expect((await call(PROTECTED, { headers })).status).toBe(200);
  });

  it("accepts a valid HS256 bearer token of an existing user", async () => {
    const res = await call(PROTECTED, { headers: bearer(await loginAs(await createUser("viewer"))) });
    expect(res.status).toBe(200);
  });

  it("refuses a correctly signed token whose user does not exist", async () => {
    const res = await call(PROTECTED, { headers: { Authorization: `Bearer ${await token({ sub: "987654321" })}` } });
    expect(await res.json()).toMatchObject(errorShape(401, "invalid_token"));
  });

  it("answers token_expired for an expired token", async () => {
    const expired = await token({ iat: now() - 3600, exp: now() - 60 });
    const res = await call(PROTECTED, { headers: { Authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject(errorShape(401, "token_expired"));
  });

  it("answers token_expired during the very second the token expires", async () => {
    const res = await call(PROTECTED, { headers: { Authorization: `Bearer ${await token({ iat: now() - 1800, exp: now() })}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject(errorShape(401, "token_expired"));
  });

  it("refuses a tampered token, one signed with another secret, an alg none token and one without exp", async () => {
    const good = await token();
    const [header, payload, signature] = good.split(".");
    const elevated = btoa(JSON.stringify({ ...JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/"))), role: "admin", sub: "2" }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "")}.${payload}.`;
    const candidates = {
      tampered: `${header}.${elevated}.${signature}`,
      foreign: await token({}, "another-secret-of-sufficient-length-000000"),
      none,
      noExp: await sign({ sub: "1", username: "ada", role: "admin", jti: "x" }, env.JWT_SECRET, "HS256"),
      garbage: "not.a.jwt",
    };
    for (const [name, jwt] of Object.entries(candidates)) {
      const res = await call(PROTECTED, { headers: { Authorization: `Bearer ${jwt}` } });
      expect(res.status, name).toBe(401);
      expect(await res.json(), name).toMatchObject(errorShape(401, "invalid_token"));
    }
  });

  it("refuses a caller below the route's role with 403, naming the role it needs", async () => {
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const res = await call("/api/admin/users", { headers: viewer });
    expect(await res.json()).toMatchObject({ ...errorShape(403, "forbidden"), detail: "This route needs the admin role" });
  });

  it("counts failed attempts against the caller's IP in the public tier", async () => {
    const defaults = withEnv({ RATE_LIMITS: "" });
    const ip = uniqueIp();
    for (let i = 0; i < 10; i++) expect((await defaults(PROTECTED, { ip, headers: { "X-API-Key": `guess-${i}` } })).status).toBe(401);
    const res = await defaults(PROTECTED, { ip, headers: { "X-API-Key": "guess-10" } });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject(errorShape(429, "rate_limit_exceeded"));
    // The right key is still accepted from that address: its requests count against the operator.
    expect((await defaults(PROTECTED, { ip, auth: true })).status).toBe(200);
  });

  it("answers 503 configuration_error, saying what to set, when the key is not configured outside production", async () => {
    const res = await withEnv({ API_KEY: "" })(PROTECTED, { headers: { "X-API-Key": "anything" } });
    expect(res.status).toBe(503);
    const body = await res.json<{ detail: string }>();
    expect(body).toMatchObject(errorShape(503, "configuration_error"));
    expect(body.detail).toContain("API_KEY");
  });

  it("never takes an empty key for an operator key that is not configured", async () => {
    const unconfigured = withEnv({ API_KEY: "" });
    for (const headers of [{ "X-API-Key": "" }, { Authorization: basic("admin", "") }] as Record<string, string>[]) {
      const res = await unconfigured(PROTECTED, { headers });
      expect(await res.json(), JSON.stringify(headers)).toMatchObject(errorShape(503, "configuration_error"));
    }
  });
});

describe("the operator key comparison", () => {
  afterEach(() => vi.restoreAllMocks());
  const app = withEnv({});

  // Timing cannot be measured reliably in a test; what can be checked is that the constant-time
  // comparison is the one that decides, over equal-length digests (never the raw strings).
  it("is decided by crypto.subtle.timingSafeEqual over two 32-byte digests", async () => {
    const compare = vi.spyOn(crypto.subtle, "timingSafeEqual");
    expect((await app(PROTECTED, { headers: { "X-API-Key": "short" } })).status).toBe(401);
    expect(compare).toHaveBeenCalled();
    for (const [a, b] of compare.mock.calls) {
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }

    compare.mockReturnValue(false);
    expect((await app(PROTECTED, { auth: true })).status, "the right key, refused by the comparison").toBe(401);
    compare.mockReturnValue(true);
    expect((await app(PROTECTED, { headers: { "X-API-Key": "not-the-key" } })).status, "a wrong key, accepted by the comparison").toBe(200);
  });
});
