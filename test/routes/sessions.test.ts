import { describe, expect, it } from "vitest";
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
