import { z } from "zod";
import { API_KEY_ROLES, USER_ROLES } from "../db/schema";
import { pageQuery } from "../lib/pagination";
import { decimalInt } from "../lib/validate";
import { changes, timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";
import { TIERS, type Tier } from "../rate-limit/tiers";

// The requests of /api/admin

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

export const loginBody = z.strictObject({ username: z.string().trim().min(1).max(50), password: z.string().min(1).max(256) });
export const newUserBody = z.strictObject({ username, email, password, role: z.enum(USER_ROLES).default("viewer") });
export const userChangesBody = z
  .strictObject({ email: email.optional(), role: z.enum(USER_ROLES).optional(), is_active: z.boolean().optional() })
  .refine((body) => Object.values(body).some((v) => v !== undefined), "send at least one of email, role, is_active");
export const passwordBody = z.strictObject({ current_password: z.string().max(256).optional(), new_password: password });
export const auditQuery = pageQuery.extend({
  user_id: decimalInt(z.number().positive()).optional(),
  action: z.string().trim().min(1).max(50).optional(),
  resource: z.string().trim().min(1).max(50).optional(),
});
export const newKeyBody = z.strictObject({ name: z.string().trim().min(1).max(100), role: z.enum(API_KEY_ROLES) });
export const limitParam = z.object({ tier: z.enum(TIERS as [Tier, ...Tier[]]), client: z.string().min(1).max(200) });

// The answers of /api/admin (src/services/users.ts, auth.ts, api-keys.ts, audit.ts).

/** A user as answered (`userJson`): never the password hash. */
export const userSchema = z
  .strictObject({
    id: z.number().int(),
    username: z.string(),
    email: z.string(),
    role: z.enum(USER_ROLES),
    is_active: z.boolean(),
    last_login: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    login_attempts: z.number().int(),
    locked_until: timestamp.nullable(),
  })
  .meta({ id: "User" });

export const loginResult = z.strictObject({
  access_token: z.string().meta({ description: "A JWT for `Authorization: Bearer`" }),
  token_type: z.string().meta({ description: "bearer" }),
  expires_in: z.number().int().meta({ description: "Seconds until this token expires (30 minutes, less near the session's end)" }),
  session_expires_at: timestamp.meta({ description: "When the session ends: refreshing cannot go past it (12 hours after the login)" }),
  user: userSchema,
});

export const messageOnly = z.strictObject({ message: z.string() });

export const loginLockCleared = z.strictObject({
  message: z.string(),
  cleared_counts: z.number().int().describe("The counts forgotten: one per network that had tried, and the account's"),
});

export const me = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("user"), role: z.enum(USER_ROLES), user: userSchema.nullable(), token_expires_at: timestamp }),
  z.strictObject({
    kind: z.literal("api_key"),
    role: z.enum(API_KEY_ROLES),
    api_key: z.strictObject({ id: z.number().int(), name: z.string() }),
  }),
  z.strictObject({ kind: z.literal("operator"), role: z.literal("admin") }),
]);

export const userPage = pageOf("users", userSchema);
export const oneUser = z.strictObject({ user: userSchema });
export const userUpdated = z.strictObject({ user: userSchema, changes_made: changes });

export const auditPage = pageOf(
  "logs",
  z.strictObject({
    id: z.number().int(),
    user_id: z.number().int().nullable(),
    username: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    resource: z.string(),
    resource_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    timestamp,
  }),
);

/** A named API key as listed: never the key or its hash. */
export const apiKeySchema = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    role: z.enum(API_KEY_ROLES),
    key_prefix: z.string(),
    created_by: z.string().nullable(),
    created_at: timestamp,
    last_used_at: timestamp.nullable(),
    revoked_at: timestamp.nullable(),
    active: z.boolean(),
  })
  .meta({ id: "ApiKey" });

export const apiKeyPage = pageOf("api_keys", apiKeySchema);
export const apiKeyCreated = z.strictObject({
  api_key: apiKeySchema.extend({ key: z.string().meta({ description: "The key itself: shown this once" }) }),
});
export const apiKeyRevoked = z.strictObject({ api_key: apiKeySchema });

const tier = z.enum(TIERS as [Tier, ...Tier[]]);

export const limitStanding = z.strictObject({
  tier,
  client: z.string(),
  limit: z.number().int(),
  window_seconds: z.number(),
  count: z.number().int(),
  remaining: z.number().int(),
  reset_seconds: z.number().int(),
});

export const limitCleared = z.strictObject({ tier, client: z.string(), cleared: z.literal(true) });
