import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { loginThrottle } from "../db/schema";
import { AccountLockedError } from "../errors";
import { sha256Hex } from "../lib/crypto";

/**
 * Password attempts (a login, or a user's current password when changing it), counted before the
 * password is checked (issues 10 and 23). Per username, known or not (so the answers never tell
 * which usernames exist):
 * - per client network (an IPv4 address, an IPv6 /48: `loginNetwork`): 5 attempts, then that
 *   network is locked out of that account for 30 minutes;
 * - per account, the distinct networks that tried: from the 10th, the account is under attack for
 *   30 minutes, and every network gets one attempt instead of five. The account is never locked
 *   for everyone: its owner's right password from a network that has not failed is checked.
 * A success resets its network's count and takes it off the account's; an admin or the operator
 * key can clear every count of a user (DELETE /api/admin/users/{id}/login-lock). Counts are
 * forgotten a day after the last attempt.
 */
export const MAX_ATTEMPTS_PER_NETWORK = 5;
/** Attempts per network while the account is under attack. */
export const MAX_ATTEMPTS_UNDER_ATTACK = 1;
/** Distinct failing networks that put an account under attack. */
export const NETWORKS_UNDER_ATTACK = 10;
export const LOCK_SECONDS = 30 * 60;
const FORGET_SECONDS = 24 * 60 * 60;

const iso = (ms: number) => new Date(ms).toISOString();

export interface LoginSlot {
  account: string;
  pair: string;
  /** This attempt may check the password. */
  allowed: boolean;
  /** A failure of this attempt locks its network (it took the last attempt of its budget). */
  lastSlot: boolean;
  /** The network's budget this attempt was counted under (five, or one while under attack). */
  budget: number;
  /** When refused or locking: seconds until the lock ends. */
  retryAfterSeconds: number;
}

type Row = { attempts: number; lockedUntil: string | null } | undefined;

/**
 * The network a login budget is kept for: an IPv4 address as it is, an IPv6 address by its /48
 * (one site's allocation: its /56s and /64s are the same attacker). `address` is the per-address
 * budget's form from src/lib/client.ts (`addressForBudget`): IPv4, or `a:b:c:d::/64`.
 */
export function loginNetwork(address: string): string {
  const v6 = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):[0-9a-f]{1,4}::\/64$/.exec(address);
  return v6 ? `${v6[1]}:${v6[2]}:${v6[3]}::/48` : address;
}

/** The account-wide key of a username (hashed: the table holds no names). */
export function accountKey(username: string): Promise<string> {
  return sha256Hex(`login-account:${username}`);
}

/** Both keys of one attempt: the account's, and the account's from this client's network. */
export async function throttleKeys(username: string, address: string) {
  return { account: await accountKey(username), pair: await sha256Hex(`login-pair:${username}\n${loginNetwork(address)}`) };
}

const lockExpired = (now: number) => sql`(${loginThrottle.lockedUntil} IS NOT NULL AND ${loginThrottle.lockedUntil} <= ${iso(now)})`;

/**
 * The statements that take one attempt before any password is checked, for the caller's batch
 * (one transaction, so concurrent attempts are counted one after the other):
 * 1. the account's row as it was (under attack or not);
 * 2. the network's upsert: its count, locked at its budget (five, or one under attack);
 * 3. the account's upsert: one more network when this was the network's first attempt, under
 *    attack for 30 minutes from the 10th.
 * Of any number of concurrent attempts at most the budget see a count within it.
 */
export function attemptStatements(db: Database, keys: { account: string; pair: string }, now = Date.now()) {
  const nowIso = iso(now);
  const underAttack = sql`EXISTS (SELECT 1 FROM ${loginThrottle} a WHERE a.key = ${keys.account} AND a.locked_until > ${nowIso})`;
  const budget = sql`CASE WHEN ${underAttack} THEN ${MAX_ATTEMPTS_UNDER_ATTACK} ELSE ${MAX_ATTEMPTS_PER_NETWORK} END`;
  const pairAttempts = sql`CASE WHEN ${lockExpired(now)} THEN 1 ELSE ${loginThrottle.attempts} + 1 END`;
  // A network's first attempt (a new one, or its first since its lock ended) is one more network.
  const newNetwork = sql`(SELECT CASE WHEN p.attempts = 1 THEN 1 ELSE 0 END FROM ${loginThrottle} p WHERE p.key = ${keys.pair})`;
  const forget = iso(now + FORGET_SECONDS * 1000);
  const lock = iso(now + LOCK_SECONDS * 1000);
  return [
    db
      .select({ attempts: loginThrottle.attempts, lockedUntil: loginThrottle.lockedUntil })
      .from(loginThrottle)
      .where(eq(loginThrottle.key, keys.account)),
    db
      .insert(loginThrottle)
      .values({
        key: keys.pair,
        account: keys.account,
        attempts: 1,
        lockedUntil: sql`CASE WHEN ${budget} <= 1 THEN ${lock} ELSE NULL END`,
        expiresAt: forget,
      })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          // Order matters: SQLite evaluates every SET against the row as it was.
          lockedUntil: sql`CASE
            WHEN ${lockExpired(now)} THEN CASE WHEN ${budget} <= 1 THEN ${lock} ELSE NULL END
            WHEN ${loginThrottle.lockedUntil} IS NULL AND ${loginThrottle.attempts} + 1 >= ${budget} THEN ${lock}
            ELSE ${loginThrottle.lockedUntil} END`,
          attempts: pairAttempts,
          expiresAt: forget,
        },
      })
      .returning({ attempts: loginThrottle.attempts, lockedUntil: loginThrottle.lockedUntil }),
    db
      .insert(loginThrottle)
      .values({ key: keys.account, account: keys.account, attempts: 1, lockedUntil: null, expiresAt: forget })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          lockedUntil: sql`CASE
            WHEN ${lockExpired(now)} THEN NULL
            WHEN ${loginThrottle.lockedUntil} IS NULL AND ${loginThrottle.attempts} + ${newNetwork} >= ${NETWORKS_UNDER_ATTACK} THEN ${lock}
            ELSE ${loginThrottle.lockedUntil} END`,
          attempts: sql`CASE WHEN ${lockExpired(now)} THEN ${newNetwork} ELSE ${loginThrottle.attempts} + ${newNetwork} END`,
          expiresAt: forget,
        },
      }),
  ] as const;
}

/** What one taken attempt allows, from the account's row before it and the network's row after it. */
export function slotOf(keys: { account: string; pair: string }, accountBefore: Row, pairRow: Row, now = Date.now()): LoginSlot {
  const underAttack = !!accountBefore?.lockedUntil && Date.parse(accountBefore.lockedUntil) > now;
  const budget = underAttack ? MAX_ATTEMPTS_UNDER_ATTACK : MAX_ATTEMPTS_PER_NETWORK;
  const attempts = pairRow?.attempts ?? 1;
  const lockedUntil = pairRow?.lockedUntil ? Date.parse(pairRow.lockedUntil) : undefined;
  const until = lockedUntil !== undefined && lockedUntil > now ? lockedUntil : now + LOCK_SECONDS * 1000;
  return {
    ...keys,
    allowed: attempts <= budget,
    lastSlot: attempts === budget,
    budget,
    retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)),
  };
}

/** Throws 423 when the attempt's network has no attempt left. */
export function refuseUnlessAllowed(slot: LoginSlot): void {
  if (!slot.allowed) throw new AccountLockedError(slot.retryAfterSeconds);
}

/**
 * After a right password: resets the network's count, but only while no concurrent attempt went
 * past its budget (a burst that reached the limit does not log in), and takes the network off
 * the account's count. Both in the caller's batch; the first returns a row only when the login
 * may proceed.
 */
export function releaseOnSuccess(db: Database, slot: Pick<LoginSlot, "account" | "pair" | "budget">) {
  return [
    db
      .update(loginThrottle)
      .set({ attempts: 0, lockedUntil: null })
      .where(sql`${loginThrottle.key} = ${slot.pair} AND ${loginThrottle.attempts} <= ${slot.budget}`)
      .returning({ key: loginThrottle.key }),
    db
      .update(loginThrottle)
      .set({ attempts: sql`MAX(${loginThrottle.attempts} - 1, 0)` })
      .where(eq(loginThrottle.key, slot.account)),
  ] as const;
}

/** Forgets every count of a username (a new password, or an admin's clear, ends its lockouts); and stale rows. */
export function clearAccount(db: Database, account: string) {
  return db.delete(loginThrottle).where(eq(loginThrottle.account, account));
}

export function forgetStale(db: Database, now = Date.now()) {
  return db.delete(loginThrottle).where(sql`${loginThrottle.expiresAt} < ${iso(now)}`);
}
