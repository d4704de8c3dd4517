import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signSessionToken } from "../../src/lib/session-token";
import { bearer, createUser, loginAs } from "../fixtures";
import { call } from "../helpers";

// A session token dies when what it was issued for changes: the password (changed by the user or
// reset by an admin), the account's status (deactivation, and it stays dead after re-activation),
// or the role. A new login gets a working token.

const me = (token: string) => call("/api/admin/me", { headers: bearer(token) });

async function expectDead(token: string) {
  const res = await me(token);
  const body = await res.json<{ error: string }>();
  expect(res.status, JSON.stringify(body)).toBe(401);
  expect(body.error).toBe("invalid_token");
}

describe("tokens issued before an account change", { timeout: 30_000 }, () => {
  it("die when the user changes their own password, including the token that made the change", async () => {
    const user = await createUser("viewer");
    const [first, second] = [await loginAs(user), await loginAs(user)];
    const res = await call(`/api/admin/users/${user.id}/password`, {
      method: "POST",
      headers: bearer(first),
      json: { current_password: user.password, new_password: "a-new-password-1" },
    });
    expect(res.status).toBe(200);
    await expectDead(first);
    await expectDead(second);
    const fresh = await loginAs({ username: user.username, password: "a-new-password-1" });
    expect((await me(fresh)).status).toBe(200);
  });

  it("die when an admin resets the password", async () => {
    const user = await createUser("viewer");
    const token = await loginAs(user);
    const res = await call(`/api/admin/users/${user.id}/password`, {
      method: "POST",
      auth: true,
      json: { new_password: "reset-by-admin-1" },
    });
    expect(res.status).toBe(200);
    await expectDead(token);
  });

  it("stay dead after a deactivation is undone", async () => {
    const user = await createUser("viewer");
    const token = await loginAs(user);
    expect((await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { is_active: false } })).status).toBe(200);
    expect((await me(token)).status).toBeGreaterThanOrEqual(401);
    expect((await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { is_active: true } })).status).toBe(200);
    await expectDead(token);
    expect((await me(await loginAs(user))).status).toBe(200);
  });

  it("die when the role changes", async () => {
    const user = await createUser("moderator");
    const token = await loginAs(user);
    expect((await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { role: "viewer" } })).status).toBe(200);
    await expectDead(token);
    const fresh = await loginAs(user);
    expect(await (await me(fresh)).json()).toMatchObject({ data: { role: "viewer" } });
  });

  it("survive a change that is not about access (an email)", async () => {
    const user = await createUser("viewer");
    const token = await loginAs(user);
    expect(
      (await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { email: `${user.username}@new.example.test` } }))
        .status,
    ).toBe(200);
    expect((await me(token)).status).toBe(200);
  });
});

// A refresh keeps a session going for a working day without weakening revocation: each refresh
// revokes the token it replaces, and logout or an account change still ends the session at once.
const refresh = (token: string) => call("/api/admin/refresh", { method: "POST", headers: bearer(token) });

async function refreshed(token: string) {
  const res = await refresh(token);
  const body = await res.json<{ data: { access_token: string; expires_in: number; session_expires_at: string } }>();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.data;
}

describe("POST /api/admin/refresh", { timeout: 30_000 }, () => {
  it("gives a new 30-minute token of the same session and revokes the old one", async () => {
    const user = await createUser("viewer");
    const token = await loginAs(user);
    const next = await refreshed(token);
    expect(next.access_token).not.toBe(token);
    expect(next.expires_in).toBe(30 * 60);
    expect((await me(next.access_token)).status).toBe(200);
    await expectDead(token);
    // The replaced token cannot be refreshed again (a copy of it gives no second session).
    expect((await refresh(token)).status).toBe(401);
    // The session's end stays where the login put it.
    const again = await refreshed(next.access_token);
    expect(again.session_expires_at).toBe(next.session_expires_at);
  });

  it("ends with a logout: the refreshed token is revoked like the first", async () => {
    const user = await createUser("viewer");
    const { access_token } = await refreshed(await loginAs(user));
    expect((await call("/api/admin/logout", { method: "POST", headers: bearer(access_token), json: {} })).status).toBe(200);
    await expectDead(access_token);
    expect((await refresh(access_token)).status).toBe(401);
  });

  it("is refused after a password or role change", async () => {
    const user = await createUser("moderator");
    const token = await loginAs(user);
    expect((await call(`/api/admin/users/${user.id}`, { method: "PUT", auth: true, json: { role: "viewer" } })).status).toBe(200);
    const res = await refresh(token);
    expect(res.status).toBe(401);
    expect((await res.json<{ error: string }>()).error).toBe("invalid_token");
  });

  it("never reaches past 12 hours after the login", async () => {
    const user = await createUser("viewer");
    const { id } = user;
    const now = Math.floor(Date.now() / 1000);
    // A token of a session that began 11 h 50 min ago: its refresh lives only the 10 minutes left.
    const loginTime = now - (12 * 60 - 10) * 60;
    const old = await signSessionToken(
      {
        sub: String(id),
        username: user.username,
        role: "viewer",
        jti: crypto.randomUUID(),
        iat: now - 60,
        exp: now + 600,
        gen: 0,
        auth_time: loginTime,
      },
      env.JWT_SECRET,
    );
    const next = await refreshed(old);
    expect(next.session_expires_at).toBe(new Date((loginTime + 12 * 3600) * 1000).toISOString());
    expect(next.expires_in).toBeLessThanOrEqual(600);
    expect(next.expires_in).toBeGreaterThan(0);
  });

  it("is for token sessions only: an API key gets 400", async () => {
    const res = await call("/api/admin/refresh", { method: "POST", auth: true });
    expect(res.status).toBe(400);
  });
});
