import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { bearer, createUser, loginAs, unique } from "../fixtures";
import { call, uniqueIp, withEnv } from "../helpers";

// Smaller findings of the outside security test: what every /api answer carries, what a token
// check looks at first, that unmatched requests cost budget, the roles the document states, and
// that an import names every problem at once.

const defaults = withEnv({ RATE_LIMITS: "" });

describe("a token that is both expired and wrongly signed", () => {
  it("is invalid_token (the signature is checked before the expiry)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "1", username: "x", role: "admin", jti: crypto.randomUUID(), iat: now - 7200, exp: now - 3600 };
    const forged = await sign(claims, "not-the-secret-0123456789abcdef0123456789", "HS256");
    const forgedRes = await call("/api/books", { headers: bearer(forged) });
    expect(forgedRes.status).toBe(401);
    expect((await forgedRes.json<{ error: string }>()).error).toBe("invalid_token");

    const expired = await sign(claims, env.JWT_SECRET, "HS256");
    const expiredRes = await call("/api/books", { headers: bearer(expired) });
    expect(expiredRes.status).toBe(401);
    expect((await expiredRes.json<{ error: string }>()).error).toBe("token_expired");
  });
});

describe("Cache-Control on /api", () => {
  it("is no-store on successes, refusals and unmatched /api paths, /api itself included", async () => {
    for (const res of [
      await call("/api/books", { auth: true }),
      await call("/api/books"),
      await call("/api/info"),
      await call("/api"),
      await call("/api/nothing-here", { auth: true }),
      await call("/api/books", { auth: true, method: "PATCH" }),
    ]) {
      expect(res.headers.get("Cache-Control"), `${res.status}`).toBe("no-store");
    }
  });
});

describe("unmatched requests", () => {
  it("count in the public tier of the address: 404s, 405s and preflights", async () => {
    const ip = uniqueIp();
    const preflight = { method: "OPTIONS", headers: { Origin: "https://example.test", "Access-Control-Request-Method": "POST" } };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await defaults(`/no-such-${i}`, { ip })).status);
    for (let i = 0; i < 3; i++) statuses.push((await defaults("/api/books", { ip, method: "PATCH" })).status);
    for (let i = 0; i < 3; i++) statuses.push((await defaults("/api/books", { ip, ...preflight })).status);
    expect(statuses.slice(0, 4)).toEqual([404, 404, 404, 404]);
    expect(statuses.slice(4, 7)).toEqual([405, 405, 405]);
    expect(statuses.slice(7).every((s) => s === 204)).toBe(true);
    // The public budget (10 a minute) is spent: the next unmatched request and a public route are refused.
    expect((await defaults("/no-such-more", { ip })).status).toBe(429);
    expect((await defaults("/api/info", { ip })).status).toBe(429);
    // Another address is not affected.
    expect((await defaults("/no-such-more", { ip: uniqueIp() })).status).toBe(404);
  });
});

describe("the OpenAPI document's roles", () => {
  type Op = { "x-required-role": string; "x-access"?: string };
  async function op(path: string, method: string): Promise<Op> {
    const doc = await (await call("/openapi.json")).json<{ paths: Record<string, Record<string, Op>> }>();
    return doc.paths[path]![method]!;
  }

  it("states what the handlers enforce for a user look-up and a password change", async () => {
    const lookup = await op("/api/admin/users/{id}", "get");
    expect(lookup["x-required-role"]).not.toBe("viewer");
    expect(lookup["x-access"]).toMatch(/moderator/);
    expect((await op("/api/admin/users/{id}/password", "post"))["x-access"]).toMatch(/self.*admin|admin.*self/i);

    // ...and it is what happens: a viewer is refused the look-up, and another user's password.
    const viewer = await createUser("viewer");
    const other = await createUser("viewer");
    const token = await loginAs(viewer);
    expect((await call(`/api/admin/users/${viewer.id}`, { headers: bearer(token) })).status).toBe(403);
    const change = { method: "POST", headers: bearer(token), json: { current_password: viewer.password, new_password: "another-pass-1" } };
    expect((await call(`/api/admin/users/${other.id}/password`, change)).status).toBe(403);
    const moderator = await createUser("moderator");
    expect((await call(`/api/admin/users/${viewer.id}`, { headers: bearer(await loginAs(moderator)) })).status).toBe(200);
  });
});

describe("an import with several problems", () => {
  it("reports field errors and duplicate abs_ids together", async () => {
    const absId = unique("abs");
    const rows = [
      { title: "Zero", abs_id: unique("abs"), published_year: "nineteen" },
      { title: "One", abs_id: absId },
      { title: "Two", abs_id: absId },
    ];
    const res = await call("/api/books/import", { method: "POST", auth: true, json: rows });
    const body = await res.json<{ errors: { path: string; message: string }[] }>();
    expect(res.status).toBe(422);
    const paths = body.errors.map((e) => e.path);
    expect(paths).toContain("body.0.published_year");
    expect(paths).toContain("body.2.abs_id");
  });
});
