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
/**
 * How long one login lasts when its tokens are refreshed (POST /api/admin/refresh): a working day.
 * Each token still lives 30 minutes, so an idle or closed tab ends the session within the half
 * hour, and logout, a password, status or role change end it at once (README "Security notes").
 */
export const SESSION_MAX_SECONDS = 12 * 60 * 60;

/** A token for `user`'s session that began at `authTime` (seconds): 30 minutes, never past the session's end. */
async function issueToken(
  user: { id: number; username: string; role: string; tokenGeneration: number },
  authTime: number,
  issuedAt: number,
  secret: string,
) {
  const exp = Math.min(issuedAt + TOKEN_TTL_SECONDS, authTime + SESSION_MAX_SECONDS);
  const access_token = await signSessionToken(
    {
      sub: String(user.id),
      username: user.username,
      role: user.role,
      jti: crypto.randomUUID(),
      iat: issuedAt,
      exp,
      gen: user.tokenGeneration,
      auth_time: authTime,
    },
    secret,
  );
  return {
    access_token,
    token_type: "bearer",
    expires_in: exp - issuedAt,
    session_expires_at: new Date((authTime + SESSION_MAX_SECONDS) * 1000).toISOString(),
  };
}

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
    sessionStartedAt: 0,
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
  const token = await issueToken(user, issuedAt, issuedAt, secret);
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
  return { ...token, user: userJson(updated ?? user) };
}

/**
 * A new 30-minute token for the caller's session, and the one it replaces revoked (as a logout
 * revokes it), so only the newest token of a session works. The session keeps its login time: no
 * refresh reaches past SESSION_MAX_SECONDS after the login. The auth middleware has already
 * refused a revoked token and one from before a password, status or role change; a token is never
 * valid past its session's end, so neither is the refresh.
 */
export async function refresh(db: Database, config: Config, actor: Actor, now = Date.now()) {
  const identity = actor.identity;
  if (identity?.kind !== "user")
    throw new AppError("invalid_input", "Nothing to refresh", { detail: "Only a Bearer token session can be refreshed" });
  const secret = requireSecret(config, "JWT_SECRET");
  const issuedAt = Math.floor(now / 1000);
  const user = await db.query.users.findFirst({ where: eq(users.id, identity.userId) });
  if (!user) throw new UnauthorizedError("invalid_token", "The token's user no longer exists");
  const token = await issueToken(user, identity.sessionStartedAt, issuedAt, secret);
  // Revoke the old token only if nobody did first: two refreshes of one token give one new session, not two.
  const [revoked] = await db.batch([
    db
      .insert(revokedTokens)
      .values({ jti: identity.tokenId, userId: identity.userId, expiresAt: new Date(identity.expiresAt * 1000).toISOString() })
      .onConflictDoNothing()
      .returning({ jti: revokedTokens.jti }),
    db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, new Date(now).toISOString())),
  ]);
  if (revoked.length === 0) throw new UnauthorizedError("invalid_token", "The token was already refreshed or logged out");
  return { ...token, user: userJson(user) };
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
