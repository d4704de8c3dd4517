import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type API_KEY_ROLES, type ApiKey, apiKeys } from "../db/schema";
import { ConflictError, isUniqueViolation, NotFoundError } from "../errors";
import { type Actor, actorOf } from "../lib/actor";
import { addressForBudget, keyClient } from "../lib/client";
import { sha256Hex } from "../lib/crypto";
import type { PageQuery } from "../lib/pagination";
import { auditEntry } from "./audit";

export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** A key as listed: never the key or its hash. */
export function apiKeyJson(row: ApiKey) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    key_prefix: row.keyPrefix,
    created_by: row.createdBy,
    created_at: row.createdAt,
    last_used_at: row.lastUsedAt,
    revoked_at: row.revokedAt,
    active: row.revokedAt === null,
  };
}

/** "mam_" + 43 characters of base64url: 256 random bits, so a plain SHA-256 is a safe store. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `mam_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
}

/** Creates a key; the answer is the only time the key itself is ever shown. */
export async function createApiKey(db: Database, actor: Actor, input: { name: string; role: ApiKeyRole }) {
  const duplicate = () => new ConflictError(`An active key named '${input.name}' exists`, "duplicate_resource");
  const active = await db.query.apiKeys.findFirst({ where: and(eq(apiKeys.name, input.name), isNull(apiKeys.revokedAt)) });
  if (active) throw duplicate();
  const key = newKey();
  const keyHash = await sha256Hex(key);
  let row: ApiKey | undefined;
  try {
    [[row]] = await db.batch([
      db
        .insert(apiKeys)
        .values({ name: input.name, role: input.role, keyHash, keyPrefix: key.slice(0, 12), createdBy: actorOf(actor.identity) })
        .returning(),
      auditEntry(db, actor, {
        action: "create",
        resource: "api_key",
        resourceId: sql`SELECT ${apiKeys.id} FROM ${apiKeys} WHERE ${apiKeys.keyHash} = ${keyHash}`,
        details: { name: input.name, role: input.role },
      }),
    ]);
  } catch (error) {
    // Created by a concurrent request after the check: the unique index of active names refuses
    // this one, and the whole batch (its audit row too).
    if (isUniqueViolation(error, "api_keys.name")) throw duplicate();
    throw error;
  }
  if (!row) throw new Error("insert returned no row");
  return { ...apiKeyJson(row), key };
}

export async function listApiKeys(db: Database, paging: PageQuery) {
  const [rows, [total]] = await db.batch([
    db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).limit(paging.limit).offset(paging.offset),
    db.select({ n: count() }).from(apiKeys),
  ]);
  return { rows: rows.map(apiKeyJson), total: total?.n ?? 0 };
}

/** Revokes a key: refused from the next request on. Revoking twice is harmless. */
export async function revokeApiKey(db: Database, actor: Actor, id: number) {
  const row = await db.query.apiKeys.findFirst({ where: eq(apiKeys.id, id) });
  if (!row) throw new NotFoundError("API key", id);
  if (row.revokedAt) return apiKeyJson(row);
  const [[revoked]] = await db.batch([
    db.update(apiKeys).set({ revokedAt: new Date().toISOString() }).where(eq(apiKeys.id, id)).returning(),
    auditEntry(db, actor, { action: "revoke", resource: "api_key", resourceId: id, details: { name: row.name } }),
  ]);
  return apiKeyJson(revoked ?? row);
}

/**
 * The limiter's name for a client as an admin writes it: `key:<id>` (the id /api/admin/api-keys
 * lists) becomes that key's client; every other name (`operator`, `user:<id>`, `ip:<address>`) is
 * already the limiter's.
 */
export async function limiterClient(db: Database, client: string): Promise<string> {
  // An address as the admin copied it (any spelling, or the /64 form) is the budget's own form.
  if (client.startsWith("ip:")) return `ip:${addressForBudget(client.slice(3))}`;
  const id = /^key:(\d{1,15})$/.exec(client)?.[1];
  if (id === undefined) return client;
  const [row] = await db
    .select({ keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(eq(apiKeys.id, Number(id)));
  if (!row) throw new NotFoundError("API key", Number(id));
  return keyClient(row.keyHash);
}
