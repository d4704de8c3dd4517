import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { API_KEY_ROLES, USER_ROLES, users as usersTable } from "../db/schema";
import { ForbiddenError } from "../errors";
import { actorFrom } from "../lib/client";
import { page, pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam, validate } from "../lib/validate";
import { limiterFor } from "../rate-limit/middleware";
import { forgetRefusal } from "../rate-limit/refusals";
import { TIERS, type Tier } from "../rate-limit/tiers";
import { createApiKey, limiterClient, listApiKeys, revokeApiKey } from "../services/api-keys";
import { auditEntry, listAuditLogs } from "../services/audit";
import { login, logout } from "../services/auth";
import { changePassword, createUser, deleteUser, getUser, isAdmin, listUsers, updateUser, userJson } from "../services/users";

export const admin = new Hono<AppEnv>();

const username = z
  .string()
  .trim()
  .min(3)
  .max(50)
  .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only");
const password = z.string().min(8).max(256);
const email = z
  .email()
  .max(255)
  .transform((value) => value.toLowerCase());

// --- Session -------------------------------------------------------------------------------

admin.post(
  "/login",
  validate("json", z.strictObject({ username: z.string().trim().min(1).max(50), password: z.string().min(1).max(256) })),
  async (c) => {
    const { username: name, password: secret } = c.req.valid("json");
    return ok(c, await login(database(c), c.var.config, actorFrom(c), name, secret));
  },
);

admin.post("/logout", async (c) => ok(c, await logout(database(c), actorFrom(c))));

/** Who the caller is: a user (with its row), a named key, or the operator key. */
admin.get("/me", async (c) => {
  const identity = c.var.identity!;
  switch (identity.kind) {
    case "user": {
      const row = await database(c).query.users.findFirst({ where: eq(usersTable.id, identity.userId) });
      return ok(c, {
        kind: "user",
        role: identity.role,
        user: row ? userJson(row) : null,
        token_expires_at: new Date(identity.expiresAt * 1000).toISOString(),
      });
    }
    case "api_key":
      return ok(c, { kind: "api_key", role: identity.role, api_key: { id: identity.keyId, name: identity.name } });
    case "operator":
      return ok(c, { kind: "operator", role: "admin" });
  }
});

// --- Users ---------------------------------------------------------------------------------

admin.get("/users", validate("query", pageQuery), async (c) => {
  const q = c.req.valid("query");
  const { rows, total } = await listUsers(database(c), q);
  return ok(c, page("users", rows, total, q));
});

admin.post(
  "/users",
  validate("json", z.strictObject({ username, email, password, role: z.enum(USER_ROLES).default("viewer") })),
  async (c) => created(c, { user: await createUser(database(c), c.var.config, actorFrom(c), c.req.valid("json")) }),
);

/** Admins and moderators may look a user up (reference 6.10). */
admin.get("/users/:id", validate("param", idParam), async (c) => {
  const identity = c.var.identity;
  if (!isAdmin(identity) && !(identity?.kind === "user" && identity.role === "moderator")) {
    throw new ForbiddenError("Moderator or admin access required");
  }
  return ok(c, { user: await getUser(database(c), c.req.valid("param").id) });
});

admin.put(
  "/users/:id",
  validate("param", idParam),
  validate(
    "json",
    z
      .strictObject({ email: email.optional(), role: z.enum(USER_ROLES).optional(), is_active: z.boolean().optional() })
      .refine((body) => Object.values(body).some((v) => v !== undefined), "send at least one of email, role, is_active"),
  ),
  async (c) => ok(c, await updateUser(database(c), actorFrom(c), c.req.valid("param").id, c.req.valid("json"))),
);

admin.delete("/users/:id", validate("param", idParam), async (c) =>
  ok(c, await deleteUser(database(c), actorFrom(c), c.req.valid("param").id)),
);

admin.post(
  "/users/:id/password",
  validate("param", idParam),
  validate("json", z.strictObject({ current_password: z.string().max(256).optional(), new_password: password })),
  async (c) => ok(c, await changePassword(database(c), c.var.config, actorFrom(c), c.req.valid("param").id, c.req.valid("json"))),
);

// --- Audit trail ---------------------------------------------------------------------------

admin.get(
  "/audit-logs",
  validate(
    "query",
    pageQuery.extend({
      user_id: decimalInt(z.number().positive()).optional(),
      action: z.string().trim().min(1).max(50).optional(),
      resource: z.string().trim().min(1).max(50).optional(),
    }),
  ),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listAuditLogs(database(c), q, q);
    return ok(c, page("logs", rows, total, q));
  },
);

// --- API keys ------------------------------------------------------------------------------

admin.get("/api-keys", validate("query", pageQuery), async (c) => {
  const q = c.req.valid("query");
  const { rows, total } = await listApiKeys(database(c), q);
  return ok(c, page("api_keys", rows, total, q));
});

admin.post(
  "/api-keys",
  validate("json", z.strictObject({ name: z.string().trim().min(1).max(100), role: z.enum(API_KEY_ROLES) })),
  async (c) => created(c, { api_key: await createApiKey(database(c), actorFrom(c), c.req.valid("json")) }),
);

admin.delete("/api-keys/:id", validate("param", idParam), async (c) =>
  ok(c, { api_key: await revokeApiKey(database(c), actorFrom(c), c.req.valid("param").id) }),
);

// --- Rate limits ---------------------------------------------------------------------------

const limitParam = z.object({ tier: z.enum(TIERS as [Tier, ...Tier[]]), client: z.string().min(1).max(200) });

/** A client's standing in a tier, without counting this look. */
admin.get("/rate-limits/:tier/:client", validate("param", limitParam), async (c) => {
  const { tier, client } = c.req.valid("param");
  const { limit, windowMs } = c.var.config.rateLimits[tier];
  const state = await limiterFor(c.env, tier, await limiterClient(database(c), client)).peek(limit, windowMs);
  return ok(c, {
    tier,
    client,
    limit,
    window_seconds: windowMs / 1000,
    count: limit - state.remaining,
    remaining: state.remaining,
    reset_seconds: Math.ceil(state.resetMs / 1000),
  });
});

admin.delete("/rate-limits/:tier/:client", validate("param", limitParam), async (c) => {
  const { tier, client } = c.req.valid("param");
  const counted = await limiterClient(database(c), client);
  await limiterFor(c.env, tier, counted).clear();
  forgetRefusal(tier, counted);
  await auditEntry(database(c), actorFrom(c), { action: "clear", resource: "rate_limit", resourceId: `${tier}:${client}` }).run();
  return ok(c, { tier, client, cleared: true });
});
