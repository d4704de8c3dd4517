import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { Context } from "hono";
import { sign } from "hono/jwt";
import { type Config, requireSecret } from "../config";
import type { AppEnv, Identity } from "../context";
import type { Database } from "../db/client";
import { apiKeys, revokedTokens, users } from "../db/schema";
import { AccountLockedError, AppError, UnauthorizedError } from "../errors";
import { hashPassword, verifyNothing, verifyPassword } from "../lib/password";
import { auditEntry } from "./audit";
import { userJson } from "./users";

export const TOKEN_TTL_SECONDS = 30 * 60;
export const MAX_FAILED_LOGINS = 5;
export const LOCK_SECONDS = 30 * 60;

const INVALID_LOGIN = () => new UnauthorizedError("invalid_credentials", "Invalid username or password");
const isoIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/**
 * Checks a username and password and issues a 30-minute HS256 token with a unique id.
 * An unknown or disabled user costs the same password work and gets the same answer as a wrong
 * password. Five failures in a row lock the account for 30 minutes (423); success resets the count.
 */
export async function login(c: Context<AppEnv>, db: Database, config: Config, username: string, password: string) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  const secret = requireSecret(config, "JWT_SECRET");
  const user = await db.query.users.findFirst({ where: eq(users.username, username) });
  if (!user || !user.isActive) {
    await verifyNothing(password, pepper);
    throw INVALID_LOGIN();
  }
  const now = new Date().toISOString();
  if (user.lockedUntil && user.lockedUntil > now) throw new AccountLockedError(secondsUntil(user.lockedUntil));

  const { valid, needsRehash } = await verifyPassword(password, user.passwordHash, pepper);
  const identity: Identity = { kind: "user", userId: user.id, username: user.username, role: user.role, tokenId: "", expiresAt: 0 };
  if (!valid) {
    // One atomic step, so concurrent guesses cannot skip the lock; the count restarts after it.
    const locks = sql`${users.loginAttempts} + 1 >= ${MAX_FAILED_LOGINS}`;
    const [update] = await db.batch([
      db
        .update(users)
        .set({
          loginAttempts: sql`CASE WHEN ${locks} THEN 0 ELSE ${users.loginAttempts} + 1 END`,
          lockedUntil: sql`CASE WHEN ${locks} THEN ${isoIn(LOCK_SECONDS)} ELSE ${users.lockedUntil} END`,
        })
        .where(eq(users.id, user.id))
        .returning({ lockedUntil: users.lockedUntil }),
      auditEntry(c, db, { action: "login_failed", resource: "auth", resourceId: user.id, identity }),
    ]);
    const lockedUntil = update[0]?.lockedUntil;
    if (lockedUntil && lockedUntil > now) throw new AccountLockedError(secondsUntil(lockedUntil));
    throw INVALID_LOGIN();
  }

  const issuedAt = Math.floor(Date.now() / 1000);
  const jti = crypto.randomUUID();
  const access_token = await sign(
    { sub: String(user.id), username: user.username, role: user.role, jti, iat: issuedAt, exp: issuedAt + TOKEN_TTL_SECONDS },
    secret,
    "HS256",
  );
  const [[updated]] = await db.batch([
    db
      .update(users)
      .set({ loginAttempts: 0, lockedUntil: null, lastLogin: now, ...(needsRehash ? { passwordHash: await hashPassword(password, pepper) } : {}) })
      .where(eq(users.id, user.id))
      .returning(),
    auditEntry(c, db, { action: "login", resource: "auth", resourceId: user.id, identity }),
  ]);
  return { access_token, token_type: "bearer", expires_in: TOKEN_TTL_SECONDS, user: userJson(updated ?? user) };
}

/** Revokes the caller's token until it would have expired; expired revocations are dropped. */
export async function logout(c: Context<AppEnv>, db: Database, identity: Identity) {
  if (identity.kind !== "user") throw new AppError("invalid_input", "Nothing to log out", { detail: "Only a Bearer token session can log out" });
  await db.batch([
    db
      .insert(revokedTokens)
      .values({ jti: identity.tokenId, userId: identity.userId, expiresAt: new Date(identity.expiresAt * 1000).toISOString() })
      .onConflictDoNothing(),
    db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date().toISOString())),
    auditEntry(c, db, { action: "logout", resource: "auth", resourceId: identity.userId }),
  ]);
  return { message: "Logged out successfully" };
}

/** The user behind a verified token, read fresh (role changes and deactivation apply at once). */
export async function sessionUser(db: Database, userId: number, jti: string) {
  const [row] = await db
    .select({
      id: users.id,
      username: users.username,
      role: users.role,
      isActive: users.isActive,
      revoked: sql<number>`EXISTS (SELECT 1 FROM ${revokedTokens} WHERE ${revokedTokens.jti} = ${jti})`,
    })
    .from(users)
    .where(eq(users.id, userId));
  return row;
}

/** A named API key that has not been revoked, by the SHA-256 of the key. */
export async function activeApiKey(db: Database, keyHash: string) {
  const [row] = await db
    .select({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return row;
}

/** Records a key's use, at most once a minute, after the response has gone. */
export function touchApiKey(c: Context<AppEnv>, db: Database, key: { id: number; lastUsedAt: string | null }) {
  const now = new Date();
  if (key.lastUsedAt && now.getTime() - Date.parse(key.lastUsedAt) < 60_000) return;
  c.executionCtx.waitUntil(db.update(apiKeys).set({ lastUsedAt: now.toISOString() }).where(eq(apiKeys.id, key.id)).run());
}

function secondsUntil(iso: string): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
}
