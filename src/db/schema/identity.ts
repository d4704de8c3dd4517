import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { type JsonObject, timestampNow, updatedAt } from "./columns";

// Identity: users, their login throttle, API keys, revoked tokens and the audit log.

export const USER_ROLES = ["admin", "moderator", "viewer"] as const;
export const API_KEY_ROLES = ["viewer", "operator"] as const;

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    username: text("username").notNull(),
    email: text("email").notNull(),
    // Self-describing, e.g. "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>", so the cost can
    // be raised later without a migration.
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("viewer"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    lastLogin: text("last_login"),
    createdAt: timestampNow("created_at"),
    updatedAt: updatedAt("updated_at"),
    loginAttempts: integer("login_attempts").notNull().default(0),
    lockedUntil: text("locked_until"),
    // Counts the changes that end every session (password, activation, role); a token carries
    // the value it was issued under (claim `gen`) and is refused once they differ.
    tokenGeneration: integer("token_generation").notNull().default(0),
  },
  (t) => [uniqueIndex("users_username_unique").on(t.username), uniqueIndex("users_email_unique").on(t.email)],
);

// Login attempts per (username, client address) and per username, known or not: see
// src/services/login-throttle.ts. Keys and account are SHA-256 hashes, never the name or address.
export const loginThrottle = sqliteTable(
  "login_throttle",
  {
    key: text("key").primaryKey(),
    account: text("account").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lockedUntil: text("locked_until"),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("login_throttle_account").on(t.account), index("login_throttle_expires_at").on(t.expiresAt)],
);

// Audit rows outlive the user they mention: user_id becomes NULL, actor/username keep who it was.
export const auditLogs = sqliteTable(
  "audit_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    // who acted, as src/lib/actor.ts writes it: "user:<username>", "key:<name>", "operator", "cli"
    actor: text("actor").notNull(),
    username: text("username"),
    action: text("action").notNull(),
    resource: text("resource").notNull(),
    resourceId: text("resource_id"),
    details: text("details", { mode: "json" }).$type<JsonObject>().notNull().default({}),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    timestamp: timestampNow("timestamp"),
  },
  (t) => [
    index("audit_logs_timestamp_idx").on(t.timestamp),
    index("audit_logs_user_id_timestamp_idx").on(t.userId, t.timestamp),
    index("audit_logs_action_timestamp_idx").on(t.action, t.timestamp),
    index("audit_logs_resource_timestamp_idx").on(t.resource, t.timestamp),
  ],
);

// Only the SHA-256 of a key is stored; the key itself is shown once, at creation.
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    role: text("role", { enum: API_KEY_ROLES }).notNull(),
    keyHash: text("key_hash").notNull(), // lowercase hex SHA-256
    keyPrefix: text("key_prefix").notNull(), // first characters, to recognise a key in listings
    createdBy: text("created_by"),
    createdAt: timestampNow("created_at"),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_unique").on(t.keyHash),
    // One active key per name: concurrent creates of a name cannot both pass (revoked keys keep theirs).
    uniqueIndex("api_keys_active_name_unique").on(t.name).where(sql`${t.revokedAt} IS NULL`),
  ],
);

// JWTs revoked by logout, until they would have expired anyway (then cleanup deletes them).
export const revokedTokens = sqliteTable(
  "revoked_tokens",
  {
    jti: text("jti").primaryKey(),
    userId: integer("user_id"),
    expiresAt: text("expires_at").notNull(),
    revokedAt: timestampNow("revoked_at"),
  },
  (t) => [index("revoked_tokens_expires_at_idx").on(t.expiresAt)],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type AuditLog = typeof auditLogs.$inferSelect;
export type NewAuditLog = typeof auditLogs.$inferInsert;
export type ApiKey = typeof apiKeys.$inferSelect;
export type NewApiKey = typeof apiKeys.$inferInsert;
export type RevokedToken = typeof revokedTokens.$inferSelect;
export type NewRevokedToken = typeof revokedTokens.$inferInsert;
