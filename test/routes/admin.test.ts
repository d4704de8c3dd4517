import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { firstAdminSql } from "../../scripts/first-admin-sql.js";
import { primaryDatabase } from "../../src/db/client";
import { auditLogs, loginThrottle, users } from "../../src/db/schema";
import { addressForBudget } from "../../src/lib/client";
import { hashPassword } from "../../src/lib/password";
import { accountKey } from "../../src/services/login-throttle";
import { bearer, createUser, loginAs, unique } from "../fixtures";
import { call, errorShape, uniqueIp, withEnv } from "../helpers";

const db = primaryDatabase(env);
const json = (body: unknown) => ({ method: "POST", json: body });

async function auditRows(filter: { action?: string; resource?: string; user_id?: number; resource_id?: string }) {
  const rows = await db.select().from(auditLogs);
  return rows.filter(
    (r) =>
      (!filter.action || r.action === filter.action) &&
      (!filter.resource || r.resource === filter.resource) &&
      (!filter.user_id || r.userId === filter.user_id) &&
      (!filter.resource_id || r.resourceId === filter.resource_id),
  );
}

describe("the first admin (npm run admin:create)", () => {
  it("creates an admin that can log in, with its audit row", async () => {
    const username = unique("root").replace(/-/g, "_");
    const sql = firstAdminSql({
      username,
      email: `${username}@Example.test`,
      passwordHash: await hashPassword("first-admin-pw", env.PASSWORD_SALT),
    });
    await env.DB.exec(sql.replaceAll("\n", " "));
    const token = await loginAs({ username, password: "first-admin-pw" });
    const me = await call("/api/admin/me", { headers: bearer(token) });
    expect(await me.json()).toMatchObject({
      data: { kind: "user", role: "admin", user: { username, email: `${username}@example.test`, role: "admin" } },
    });
    const [row] = await db.select().from(users).where(eq(users.username, username));
    expect(await auditRows({ action: "create", resource: "user", resource_id: String(row!.id) })).toHaveLength(1);
  });

  it("refuses a username or email that could break out of the SQL", () => {
    const passwordHash = "pbkdf2-sha256$100000$AAAA$BBBB";
    expect(() => firstAdminSql({ username: "x'; DROP TABLE users; --", email: "a@b.cd", passwordHash })).toThrow(/username/);
    expect(() => firstAdminSql({ username: "ada", email: "a'@b.cd", passwordHash })).toThrow(/email/);
  });
});

describe("login", () => {
  it("issues a 30-minute HS256 token with a unique id, and audits the login", async () => {
    const user = await createUser("viewer");
    const res = await call("/api/admin/login", json({ username: user.username, password: user.password }));
    expect(res.status).toBe(200);
    const { data } = await res.json<{
      data: { access_token: string; token_type: string; expires_in: number; user: Record<string, unknown> };
    }>();
    expect(data).toMatchObject({
      token_type: "bearer",
      expires_in: 1800,
      user: { id: user.id, username: user.username, role: "viewer", login_attempts: 0 },
    });
    expect(data.user).not.toHaveProperty("password_hash");
    const [header, payload] = data.access_token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header).toMatchObject({ alg: "HS256" });
    expect(payload.exp - payload.iat).toBe(1800);
    const second = await loginAs(user);
    expect(JSON.parse(atob(second.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).jti).not.toBe(payload.jti);
    expect(await auditRows({ action: "login", user_id: user.id })).toHaveLength(2);
  });

  it("answers an unknown user exactly as a wrong password", async () => {
    const user = await createUser();
    const wrong = await call("/api/admin/login", json({ username: user.username, password: "not-the-password" }));
    const unknown = await call("/api/admin/login", json({ username: unique("nobody"), password: "not-the-password" }));
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = ({ timestamp, request_id, ...rest }: Record<string, unknown>) => rest;
    expect(strip(await unknown.json())).toEqual(strip(await wrong.json()));
  });

  it("locks the account for an address after five failures for 30 minutes, and a success resets the count", async () => {
    const user = await createUser();
    const ip = uniqueIp();
    const from = (body: Record<string, unknown>) => ({ ...json(body), ip });
    for (let i = 1; i <= 4; i++) {
      expect((await call("/api/admin/login", from({ username: user.username, password: `bad-${i}` }))).status).toBe(401);
    }
    const fifth = await call("/api/admin/login", from({ username: user.username, password: "bad-5" }));
    expect(fifth.status).toBe(423);
    expect(await fifth.json()).toMatchObject(errorShape(423, "account_locked"));
    // Locked: even the right password is refused, with the real wait.
    const locked = await call("/api/admin/login", from({ username: user.username, password: user.password }));
    expect(locked.status).toBe(423);
    const retryAfter = Number(locked.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(1790);
    expect(retryAfter).toBeLessThanOrEqual(1800);
    // The lock ends when its time is past; a success then starts the count over.
    await db
      .update(loginThrottle)
      .set({ lockedUntil: new Date(Date.now() - 1000).toISOString() })
      .where(eq(loginThrottle.account, await accountKey(user.username)));
    expect((await call("/api/admin/login", from({ username: user.username, password: "bad-again" }))).status).toBe(401);
    expect((await call("/api/admin/login", from({ username: user.username, password: user.password }))).status).toBe(200);
    for (let i = 1; i <= 4; i++) {
      expect((await call("/api/admin/login", from({ username: user.username, password: `bad-after-${i}` }))).status).toBe(401);
    }
  });

  it("refuses a disabled user", async () => {
    const user = await createUser();
    await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { is_active: false } });
    expect((await call("/api/admin/login", json({ username: user.username, password: user.password }))).status).toBe(401);
  });

  it("validates the body", async () => {
    const res = await call("/api/admin/login", json({ username: "", password: 5 }));
    expect(res.status).toBe(422);
    const body = await res.json<{ errors: { path: string }[] }>();
    expect(body.errors.map((e) => e.path).sort()).toEqual(["body.password", "body.username"]);
  });
});

describe("tokens", () => {
  it("me answers the caller; logout revokes that token at once, and audits it", async () => {
    const user = await createUser("moderator");
    const token = await loginAs(user);
    expect(await (await call("/api/admin/me", { headers: bearer(token) })).json()).toMatchObject({
      data: { kind: "user", role: "moderator", user: { id: user.id } },
    });
    expect((await call("/api/admin/logout", { method: "POST", headers: bearer(token) })).status).toBe(200);
    const after = await call("/api/admin/me", { headers: bearer(token) });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject(errorShape(401, "invalid_token"));
    expect(await auditRows({ action: "logout", user_id: user.id })).toHaveLength(1);
    // Another session of the same user is unaffected.
    expect((await call("/api/admin/me", { headers: bearer(await loginAs(user)) })).status).toBe(200);
  });

  it("answers token_expired for an expired token of a real user", async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(
      { sub: String(user.id), username: user.username, role: "viewer", jti: "x", iat: now - 3600, exp: now - 1800 },
      env.JWT_SECRET,
      "HS256",
    );
    expect(await (await call("/api/admin/me", { headers: bearer(expired) })).json()).toMatchObject(errorShape(401, "token_expired"));
  });

  it("applies a role change and a deactivation to tokens already issued", async () => {
    const user = await createUser("admin");
    const token = await loginAs(user);
    expect((await call("/api/admin/users", { headers: bearer(token) })).status).toBe(200);
    // A role change ends the sessions (test/routes/sessions.test.ts); a new token has the new role.
    await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { role: "viewer" } });
    expect(await (await call("/api/admin/users", { headers: bearer(token) })).json()).toMatchObject(errorShape(401, "invalid_token"));
    const viewerToken = await loginAs(user);
    expect((await call("/api/admin/users", { headers: bearer(viewerToken) })).status).toBe(403);
    await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { is_active: false } });
    expect(await (await call("/api/admin/me", { headers: bearer(viewerToken) })).json()).toMatchObject(errorShape(403, "forbidden"));
  });
});

describe("roles", () => {
  const adminOnly = [
    ["GET", "/api/admin/users"],
    ["POST", "/api/admin/users"],
    ["PUT", "/api/admin/users/1"],
    ["DELETE", "/api/admin/users/999999"],
    ["GET", "/api/admin/audit-logs"],
    ["GET", "/api/admin/api-keys"],
    ["POST", "/api/admin/api-keys"],
    ["DELETE", "/api/admin/api-keys/1"],
    ["GET", "/api/admin/rate-limits/public/ip:1"],
    ["DELETE", "/api/admin/rate-limits/public/ip:1"],
  ] as const;

  it.each(["viewer", "moderator"] as const)("gives a %s 403 on every admin-only route", async (role) => {
    const token = await loginAs(await createUser(role));
    for (const [method, path] of adminOnly) {
      const res = await call(path, { method, headers: bearer(token), json: method === "POST" || method === "PUT" ? {} : undefined });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject(errorShape(403, "forbidden"));
    }
  });

  it("lets an admin user through every admin-only route (no 401/403)", async () => {
    const token = await loginAs(await createUser("admin"));
    for (const [method, path] of adminOnly) {
      const res = await call(path, { method, headers: bearer(token), json: method === "POST" || method === "PUT" ? {} : undefined });
      expect([401, 403], `${method} ${path}`).not.toContain(res.status);
    }
  });

  it("lets a moderator and an admin look a user up, not a viewer", async () => {
    const target = await createUser();
    for (const [role, status] of [
      ["viewer", 403],
      ["moderator", 200],
      ["admin", 200],
    ] as const) {
      const token = await loginAs(await createUser(role));
      expect((await call(`/api/admin/users/${target.id}`, { headers: bearer(token) })).status, role).toBe(status);
    }
  });

  it("lets every user read the catalogue routes and call me", async () => {
    const token = await loginAs(await createUser("viewer"));
    expect((await call("/api/system/health", { headers: bearer(token) })).status).toBe(200);
    expect((await call("/api/admin/me", { headers: bearer(token) })).status).toBe(200);
  });
});

describe("users", () => {
  it("creates, reads, updates and deletes a user, with an audit row for each change", async () => {
    const username = unique("u").replace(/-/g, "_");
    const created = await call("/api/admin/users", {
      auth: true,
      ...json({ username, email: `${username}@EXAMPLE.test`, password: "long-enough", role: "moderator" }),
    });
    expect(created.status).toBe(201);
    const { user } = (await created.json<{ data: { user: Record<string, unknown> & { id: number } } }>()).data;
    expect(user).toEqual({
      id: expect.any(Number),
      username,
      email: `${username}@example.test`,
      role: "moderator",
      is_active: true,
      last_login: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      login_attempts: 0,
      locked_until: null,
    });
    expect(await (await call(`/api/admin/users/${user.id}`, { auth: true })).json()).toMatchObject({ data: { user: { id: user.id } } });
    const updated = await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { role: "viewer", is_active: true } });
    expect(await updated.json()).toMatchObject({
      data: { user: { role: "viewer" }, changes_made: { role: { old: "moderator", new: "viewer" } } },
    });
    expect((await call(`/api/admin/users/${user.id}`, { method: "DELETE", auth: true })).status).toBe(200);
    expect(await (await call(`/api/admin/users/${user.id}`, { auth: true })).json()).toMatchObject(errorShape(404, "not_found"));
    for (const action of ["create", "update", "delete"]) {
      expect(await auditRows({ action, resource: "user", resource_id: String(user.id) }), action).toHaveLength(1);
    }
  });

  it("keeps a deleted user's audit history, with the name", async () => {
    const user = await createUser();
    await loginAs(user);
    await call(`/api/admin/users/${user.id}`, { method: "DELETE", auth: true });
    const logins = (await db.select().from(auditLogs)).filter((r) => r.action === "login" && r.username === user.username);
    expect(logins).toHaveLength(1);
    expect(logins[0]!.userId).toBeNull();
  });

  it("refuses duplicates (409), bad input (422), unknown ids (404)", async () => {
    const user = await createUser();
    const dup = await call("/api/admin/users", {
      auth: true,
      ...json({ username: user.username, email: "other@example.test", password: "long-enough" }),
    });
    expect(await dup.json()).toMatchObject(errorShape(409, "duplicate_resource"));
    for (const body of [
      { username: "ab", email: "a@b.cd", password: "long-enough" },
      { username: "valid_name", email: "not-an-email", password: "long-enough" },
      { username: "valid_name", email: "a@b.cd", password: "short" },
      { username: "valid_name", email: "a@b.cd", password: "long-enough", role: "root" },
      { username: "valid_name", email: "a@b.cd", password: "long-enough", extra: 1 },
    ]) {
      const res = await call("/api/admin/users", { auth: true, ...json(body) });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect((await call("/api/admin/users/abc", { auth: true })).status).toBe(422);
    expect((await call("/api/admin/users/99999999", { method: "PUT", auth: true, json: { role: "viewer" } })).status).toBe(404);
    expect((await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: {} })).status).toBe(422);
  });

  it("does not let an admin delete itself", async () => {
    const self = await createUser("admin");
    await createUser("admin"); // another admin exists, so only the self rule applies
    const res = await call(`/api/admin/users/${self.id}`, { method: "DELETE", headers: bearer(await loginAs(self)) });
    expect(await res.json()).toMatchObject(errorShape(409, "conflict"));
  });
});

describe("password change", () => {
  it("lets a user change their own password with the current one, and audits it", async () => {
    const user = await createUser();
    const token = await loginAs(user);
    const wrong = await call(`/api/admin/users/${user.id}/password`, {
      method: "POST",
      headers: bearer(token),
      json: { current_password: "nope", new_password: "brand-new-pw" },
    });
    expect(await wrong.json()).toMatchObject(errorShape(401, "invalid_credentials"));
    const right = await call(`/api/admin/users/${user.id}/password`, {
      method: "POST",
      headers: bearer(token),
      json: { current_password: user.password, new_password: "brand-new-pw" },
    });
    expect(right.status).toBe(200);
    await loginAs({ username: user.username, password: "brand-new-pw" });
    expect(await auditRows({ action: "password_change", resource_id: String(user.id) })).toHaveLength(1);
  });

  it("refuses another user's password to a non-admin, and lets an admin set it without the current one", async () => {
    const [user, other] = [await createUser(), await createUser()];
    const res = await call(`/api/admin/users/${other.id}/password`, {
      method: "POST",
      headers: bearer(await loginAs(user)),
      json: { current_password: user.password, new_password: "hijacked-pw" },
    });
    expect(res.status).toBe(403);
    const byAdmin = await call(`/api/admin/users/${other.id}/password`, {
      method: "POST",
      headers: bearer(await loginAs(await createUser("admin"))),
      json: { new_password: "set-by-admin" },
    });
    expect(byAdmin.status).toBe(200);
    await loginAs({ username: other.username, password: "set-by-admin" });
  });
});

describe("named API keys", () => {
  async function createKey(role: "viewer" | "operator") {
    const res = await call("/api/admin/api-keys", { auth: true, ...json({ name: unique(`${role}-key`), role }) });
    expect(res.status).toBe(201);
    return (await res.json<{ data: { api_key: { id: number; key: string; name: string; key_prefix: string } } }>()).data.api_key;
  }

  it("shows the key once, stores only its hash, and lists keys without it", async () => {
    const key = await createKey("viewer");
    expect(key.key).toMatch(/^mam_[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(key.key_prefix)).toBe(true);
    const list = await (await call("/api/admin/api-keys?limit=500", { auth: true })).text();
    expect(list).toContain(key.name);
    expect(list).not.toContain(key.key);
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key.id).first<Record<string, unknown>>();
    expect(Object.values(stored!)).not.toContain(key.key);
  });

  it("gives a viewer key the read routes only, an operator key everything outside /api/admin", async () => {
    const viewer = await createKey("viewer");
    const operator = await createKey("operator");
    expect((await call("/api/system/health", { headers: { "X-API-Key": viewer.key } })).status).toBe(200);
    const write = await call("/api/books", { method: "POST", headers: { "X-API-Key": viewer.key }, json: { title: unique("book") } });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject(errorShape(403, "forbidden"));
    expect(
      (await call("/api/books", { method: "POST", headers: { "X-API-Key": operator.key }, json: { title: unique("book") } })).status,
    ).toBe(201);
    expect((await call("/api/admin/users", { headers: { "X-API-Key": operator.key } })).status).toBe(403);
    expect(await (await call("/api/admin/me", { headers: { "X-API-Key": operator.key } })).json()).toMatchObject({
      data: { kind: "api_key", role: "operator", api_key: { id: operator.id } },
    });
  });

  it("refuses a revoked key at once, and audits creation and revocation", async () => {
    const key = await createKey("viewer");
    expect((await call("/api/system/health", { headers: { "X-API-Key": key.key } })).status).toBe(200);
    const revoked = await call(`/api/admin/api-keys/${key.id}`, { method: "DELETE", auth: true });
    expect(await revoked.json()).toMatchObject({ data: { api_key: { id: key.id, active: false, revoked_at: expect.any(String) } } });
    const refused = await call("/api/system/health", { headers: { "X-API-Key": key.key } });
    expect(await refused.json()).toMatchObject(errorShape(401, "invalid_credentials"));
    expect(await auditRows({ resource: "api_key", resource_id: String(key.id) })).toHaveLength(2);
  });

  it("records when a key was last used", async () => {
    const key = await createKey("viewer");
    await call("/api/system/health", { headers: { "X-API-Key": key.key } });
    await expect
      .poll(
        async () =>
          (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(key.id).first<{ last_used_at: string | null }>())
            ?.last_used_at,
      )
      .toMatch(/Z$/);
  });

  it("counts each key as its own rate-limit client", async () => {
    const tight = withEnv({ RATE_LIMITS: JSON.stringify({ health: "2/minute" }) });
    const [a, b] = [await createKey("viewer"), await createKey("viewer")];
    for (let i = 0; i < 2; i++) expect((await tight("/api/system/health", { headers: { "X-API-Key": a.key } })).status).toBe(200);
    expect((await tight("/api/system/health", { headers: { "X-API-Key": a.key } })).status).toBe(429);
    expect((await tight("/api/system/health", { headers: { "X-API-Key": b.key } })).status).toBe(200);
  });
});

describe("audit logs", () => {
  it("filters by user, action and resource, newest first, paginated", async () => {
    const user = await createUser();
    await loginAs(user);
    const token = await loginAs(user);
    await call("/api/admin/logout", { method: "POST", headers: bearer(token) });
    const res = await call(`/api/admin/audit-logs?user_id=${user.id}&resource=auth&limit=2`, { auth: true });
    const { data } = await res.json<{
      data: { logs: { action: string; user_id: number; timestamp: string }[]; total: number; page_info: unknown };
    }>();
    expect(data.total).toBe(3);
    expect(data.page_info).toEqual({ limit: 2, offset: 0, has_more: true });
    expect(data.logs.map((l) => l.action)).toEqual(["logout", "login"]);
    const logins = await (await call(`/api/admin/audit-logs?user_id=${user.id}&action=login`, { auth: true })).json<{
      data: { total: number };
    }>();
    expect(logins.data.total).toBe(2);
  });
});

describe("rate-limit inspection", () => {
  it("shows a client's count and reset, and clears it", async () => {
    const defaults = withEnv({ RATE_LIMITS: "" });
    const ip = uniqueIp();
    for (let i = 0; i < 3; i++) await defaults("/api/info", { ip });
    // An IPv6 client's budget is its /64 network's.
    const client = `ip:${addressForBudget(ip)}`;
    const path = `/api/admin/rate-limits/public/${encodeURIComponent(client)}`;
    expect(await (await defaults(path, { auth: true })).json()).toMatchObject({
      data: { tier: "public", client, limit: 10, window_seconds: 60, count: 3, remaining: 7, reset_seconds: expect.any(Number) },
    });
    expect((await defaults(path, { method: "DELETE", auth: true })).status).toBe(200);
    // Nothing counted: nothing to wait for.
    expect(await (await defaults(path, { auth: true })).json()).toMatchObject({ data: { count: 0, remaining: 10, reset_seconds: 0 } });
    expect((await defaults("/api/admin/rate-limits/nope/ip:1", { auth: true })).status).toBe(422);
  });
});
