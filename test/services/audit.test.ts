import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { auditLogs } from "../../src/db/schema";
import { bearer, createUser, loginAs, unique } from "../fixtures";
import { call, uniqueIp } from "../helpers";

// The audit row's who, from where and with what (src/services/audit.ts): the route hands the
// service the caller as a plain value (src/lib/client.ts `actorFrom`); these rows prove it arrives.
const db = primaryDatabase(env);

async function rowsOf(action: string, resource: string) {
  return (await db.select().from(auditLogs)).filter((r) => r.action === action && r.resource === resource);
}

describe("audit rows", () => {
  it("record the caller's address and user agent, and the identity that acted", async () => {
    const ip = uniqueIp();
    const username = unique("audited").replace(/-/g, "_");
    const res = await call("/api/admin/users", {
      method: "POST",
      auth: true,
      ip,
      headers: { "User-Agent": "audit-test/1.0" },
      json: { username, email: `${username}@example.test`, password: `pw-${crypto.randomUUID()}`, role: "viewer" },
    });
    expect(res.status).toBe(201);
    const [row] = (await rowsOf("create", "user")).filter((r) => (r.details as { username?: string }).username === username);
    expect(row).toMatchObject({ actor: "operator", userId: null, ipAddress: ip, userAgent: "audit-test/1.0" });
  });

  it("name the user of a session, and the user who logs in before any identity exists", async () => {
    const admin = await createUser("admin");
    const ip = uniqueIp();
    const token = await loginAs(admin);
    const key = await call("/api/admin/api-keys", {
      method: "POST",
      ip,
      headers: { ...bearer(token), "User-Agent": "audit-test/2.0" },
      json: { name: unique("k"), role: "viewer" },
    });
    expect(key.status).toBe(201);
    const created = (await rowsOf("create", "api_key")).filter((r) => r.userId === admin.id);
    expect(created).toEqual([
      expect.objectContaining({ actor: `user:${admin.username}`, username: admin.username, ipAddress: ip, userAgent: "audit-test/2.0" }),
    ]);
    const logins = (await rowsOf("login", "auth")).filter((r) => r.userId === admin.id);
    expect(logins).toEqual([expect.objectContaining({ actor: `user:${admin.username}`, username: admin.username })]);
  });
});
