import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { loginThrottle } from "../db/schema";
import { sha256Hex } from "../lib/crypto";

/**
 * Login attempts, counted before the password is checked (issue 10). Two budgets per username,
 * known or not (so the answers never tell which usernames exist):
 * - per account and client address: 5 attempts, then that address is locked out of that account
 *   for 30 minutes;
 * - per account, over every address: 50 attempts, then the account is locked for everyone.
 * One client can lock an account only for itself; locking it for its owner needs ten addresses
 * (IPv6: ten /64 networks). A success resets its address's count and gives its slot back to
 * the account. Counts are forgotten a day after the last attempt.
 */
export const MAX_ATTEMPTS_PER_ADDRESS = 5;
export const MAX_ATTEMPTS_PER_ACCOUNT = 50;
export const LOCK_SECONDS = 30 * 60;
const FORGET_SECONDS = 24 * 60 * 60;

const iso = (ms: number) => new Date(ms).toISOString();

export interface LoginSlot {
  account: string;
  pair: string;
  /** This attempt may check the password. */
  allowed: boolean;
  /** A failure of this attempt locks (it took the last slot of a budget). */
  lastSlot: boolean;
  /** When refused or locking: seconds until the lock ends. */
  retryAfterSeconds: number;
}

/** The account-wide key of a username (hashed: the table holds no names). */
export function accountKey(username: string): Promise<string> {
  return sha256Hex(`login-account:${username}`);
}

/** Both keys of one attempt: the account's, and the account's from this client address. */
export async function throttleKeys(username: string, address: string) {
  return { account: await accountKey(username), pair: await sha256Hex(`login-pair:${username}\n${address}`) };
}

/**
 * The upsert that takes one slot of `key` (budget `max`) before any password is checked, and
 * returns the count and the lock. One statement, so of any number of concurrent attempts at most
 * `max` see a count within the budget: the attempt that locks is the last password checked.
 */
export function takeSlot(db: Database, key: string, account: string, max: number, now = Date.now()) {
  const nowIso = iso(now);
  const expired = sql`(${loginThrottle.lockedUntil} IS NOT NULL AND ${loginThrottle.lockedUntil} <= ${nowIso})`;
  const attempts = sql`CASE WHEN ${expired} THEN 1 ELSE ${loginThrottle.attempts} + 1 END`;
  return db
    .insert(loginThrottle)
    .values({ key, account, attempts: 1, lockedUntil: null, expiresAt: iso(now + FORGET_SECONDS * 1000) })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        // Order matters: SQLite evaluates every SET against the row as it was.
        lockedUntil: sql`CASE
          WHEN ${expired} THEN NULL
          WHEN ${loginThrottle.lockedUntil} IS NULL AND ${loginThrottle.attempts} + 1 >= ${max} THEN ${iso(now + LOCK_SECONDS * 1000)}
          ELSE ${loginThrottle.lockedUntil} END`,
        attempts,
        expiresAt: iso(now + FORGET_SECONDS * 1000),
      },
    })
    .returning({ attempts: loginThrottle.attempts, lockedUntil: loginThrottle.lockedUntil });
}

/** What one taken slot allows, from the two upserts' rows. */
export function slotOf(
  keys: { account: string; pair: string },
  pairRow: { attempts: number; lockedUntil: string | null } | undefined,
  accountRow: { attempts: number; lockedUntil: string | null } | undefined,
  now = Date.now(),
): LoginSlot {
  const pairAttempts = pairRow?.attempts ?? 1;
  const accountAttempts = accountRow?.attempts ?? 1;
  const locks = [pairRow?.lockedUntil, accountRow?.lockedUntil].filter((t): t is string => !!t && Date.parse(t) > now);
  const until = locks.length ? Math.max(...locks.map((t) => Date.parse(t))) : now + LOCK_SECONDS * 1000;
  return {
    ...keys,
    allowed: pairAttempts <= MAX_ATTEMPTS_PER_ADDRESS && accountAttempts <= MAX_ATTEMPTS_PER_ACCOUNT,
    lastSlot: pairAttempts === MAX_ATTEMPTS_PER_ADDRESS || accountAttempts === MAX_ATTEMPTS_PER_ACCOUNT,
    retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)),
  };
}

/**
 * After a right password: resets the address's count, but only while no concurrent attempt went
 * past its budget (a burst that reached the limit does not log in), and gives the account its
 * slot back. Both in the caller's batch; the first returns a row only when the login may proceed.
 */
export function releaseOnSuccess(db: Database, slot: Pick<LoginSlot, "account" | "pair">) {
  return [
    db
      .update(loginThrottle)
      .set({ attempts: 0, lockedUntil: null })
      .where(
        sql`${loginThrottle.key} = ${slot.pair} AND ${loginThrottle.attempts} <= ${MAX_ATTEMPTS_PER_ADDRESS}
          AND (SELECT a.attempts FROM ${loginThrottle} a WHERE a.key = ${slot.account}) <= ${MAX_ATTEMPTS_PER_ACCOUNT}`,
      )
      .returning({ key: loginThrottle.key }),
    db
      .update(loginThrottle)
      .set({ attempts: sql`MAX(${loginThrottle.attempts} - 1, 0)` })
      .where(sql`${loginThrottle.key} = ${slot.account} AND ${loginThrottle.attempts} <= ${MAX_ATTEMPTS_PER_ACCOUNT}`),
  ] as const;
}

/** Forgets every count of a username (a new password ends its lockouts); and stale rows. */
export function clearAccount(db: Database, account: string) {
  return db.delete(loginThrottle).where(eq(loginThrottle.account, account));
}

export function forgetStale(db: Database, now = Date.now()) {
  return db.delete(loginThrottle).where(sql`${loginThrottle.expiresAt} < ${iso(now)}`);
}
