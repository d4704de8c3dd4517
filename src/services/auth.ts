import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { type Config, requireSecret } from "../config";
import type { Identity } from "../context";
import type { Database } from "../db/client";
import { apiKeys, revokedTokens, users } from "../db/schema";
import { AccountLockedError, AppError, UnauthorizedError } from "../errors";
import type { Actor } from "../lib/actor";
import { addressForBudget } from "../lib/client";
import { hashPassword, verifyNothing, verifyPassword } from "../lib/password";
import { signSessionToken } from "../lib/session-token";
import { auditEntry } from "./audit";
import { attemptStatements, forgetStale, refuseUnlessAllowed, releaseOnSuccess, slotOf, throttleKeys } from "./login-throttle";
import { userJson } from "./users";

export const TOKEN_TTL_SECONDS = 30 * 60;

const INVALID_LOGIN = () => new UnauthorizedError("invalid_credentials", "Invalid username or password");

/**
 * Checks a username and password and issues a 30-minute HS256 token with a unique id, carrying
 * the user's token generation (a password, status or role change ends it).
 *
 * The attempt is counted before the password is checked (services/login-throttle.ts): five per
 * username and client network, then 423 for 30 minutes; one per network while ten networks have
 * tried the username. Known and unknown
 * usernames are counted, checked and answered alike: the same statements, one password
 * derivation, the same status, body and headers.
 */
export async function login(db: Database, config: Config, actor: Actor, username: string, password: string, now = Date.now()) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  const secret = requireSecret(config, "JWT_SECRET");
  const keys = await throttleKeys(username, addressForBudget(actor.ip));
  const [accountBefore, pairRows, , found] = await db.batch([
    ...attemptStatements(db, keys, now),
    db.select().from(users).where(eq(users.username, username)),
  ]);
  const slot = slotOf(keys, accountBefore[0], pairRows[0], now);
  refuseUnlessAllowed(slot);

  const user = found[0]?.isActive ? found[0] : undefined;
  const identity: Identity | undefined = user && {
    kind: "user",
    userId: user.id,
    username: user.username,
    role: user.role,
    tokenId: "",
    expiresAt: 0,
  };
  // An unknown or disabled user costs the same derivation as a wrong password.
  let verdict = { valid: false, needsRehash: false };
  if (user) verdict = await verifyPassword(password, user.passwordHash, pepper);
  else await verifyNothing(password, pepper);
  const { valid, needsRehash } = verdict;
  if (!user || !valid) {
    await db.batch([
      auditEntry(db, actor, { action: "login_failed", resource: "auth", resourceId: user?.id ?? null, identity }),
      forgetStale(db, now),
    ]);
    if (slot.lastSlot) throw new AccountLockedError(slot.retryAfterSeconds);
    throw INVALID_LOGIN();
  }

  // The right password, but a concurrent burst went past the budget: no login.
  const [released] = await db.batch(releaseOnSuccess(db, slot));
  if (released.length === 0) throw new AccountLockedError(slot.retryAfterSeconds);

  const issuedAt = Math.floor(now / 1000);
  const jti = crypto.randomUUID();
  const access_token = await signSessionToken(
    {
      sub: String(user.id),
      username: user.username,
      role: user.role,
      jti,
      iat: issuedAt,
      exp: issuedAt + TOKEN_TTL_SECONDS,
      gen: user.tokenGeneration,
    },
    secret,
  );
  const nowIso = new Date(now).toISOString();
  const [[updated]] = await db.batch([
    db
      .update(users)
      .set({
        loginAttempts: 0,
        lockedUntil: null,
        lastLogin: nowIso,
        ...(needsRehash ? { passwordHash: await hashPassword(password, pepper) } : {}),
      })
      .where(eq(users.id, user.id))
      .returning(),
    auditEntry(db, actor, { action: "login", resource: "auth", resourceId: user.id, identity }),
  ]);
  return { access_token, token_type: "bearer", expires_in: TOKEN_TTL_SECONDS, user: userJson(updated ?? user) };
}

/** Revokes the caller's token until it would have expired; expired revocations are dropped. */
export async function logout(db: Database, actor: Actor) {
  const identity = actor.identity;
  if (identity?.kind !== "user")
    throw new AppError("invalid_input", "Nothing to log out", { detail: "Only a Bearer token session can log out" });
  await db.batch([
    db
      .insert(revokedTokens)
      .values({ jti: identity.tokenId, userId: identity.userId, expiresAt: new Date(identity.expiresAt * 1000).toISOString() })
      .onConflictDoNothing(),
    db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date().toISOString())),
    auditEntry(db, actor, { action: "logout", resource: "auth", resourceId: identity.userId }),
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
      tokenGeneration: users.tokenGeneration,
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

/**
 * Records a key's use, at most once a minute: the write under way, for the caller to let finish
 * after the response has gone (`waitUntil`), or undefined when none is due.
 */
export function touchApiKey(db: Database, key: { id: number; lastUsedAt: string | null }): Promise<unknown> | undefined {
  const now = new Date();
  if (key.lastUsedAt && now.getTime() - Date.parse(key.lastUsedAt) < 60_000) return undefined;
  return db.update(apiKeys).set({ lastUsedAt: now.toISOString() }).where(eq(apiKeys.id, key.id)).run();
}
