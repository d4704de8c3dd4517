import { and, count, desc, eq, ne, or, sql } from "drizzle-orm";
import type { Config } from "../config";
import { requireSecret } from "../config";
import type { Identity } from "../context";
import type { Database } from "../db/client";
import { type USER_ROLES, type User, users } from "../db/schema";
import { AccountLockedError, ConflictError, ForbiddenError, isUniqueViolation, NotFoundError, UnauthorizedError } from "../errors";
import type { Actor } from "../lib/actor";
import { changesOf } from "../lib/changes";
import { addressForBudget } from "../lib/client";
import type { PageQuery } from "../lib/pagination";
import { hashPassword, verifyPassword } from "../lib/password";
import { auditEntry } from "./audit";
import { accountKey, attemptStatements, clearAccount, refuseUnlessAllowed, slotOf, throttleKeys } from "./login-throttle";

export type UserRole = (typeof USER_ROLES)[number];

/** A user as answered: never the password hash. */
export function userJson(row: User) {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    role: row.role,
    is_active: row.isActive,
    last_login: row.lastLogin,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    login_attempts: row.loginAttempts,
    locked_until: row.lockedUntil,
  };
}

/** Whether the identity acts as an administrator of users (the operator key or an admin user). */
export function isAdmin(identity: Identity | undefined): boolean {
  return identity?.kind === "operator" || (identity?.kind === "user" && identity.role === "admin");
}

async function findUser(db: Database, id: number): Promise<User> {
  const user = await db.query.users.findFirst({ where: eq(users.id, id) });
  if (!user) throw new NotFoundError("User", id);
  return user;
}

async function assertUnique(db: Database, fields: { username?: string; email?: string }, exceptId?: number) {
  const clauses = [
    fields.username === undefined ? undefined : eq(users.username, fields.username),
    fields.email === undefined ? undefined : eq(users.email, fields.email),
  ].filter((clause) => clause !== undefined);
  if (clauses.length === 0) return;
  const clash = await db.query.users.findFirst({
    where: and(or(...clauses), exceptId === undefined ? undefined : ne(users.id, exceptId)),
  });
  if (clash) throw new ConflictError("Username or email already exists", "duplicate_resource");
}

/**
 * A write after the checks above: a concurrent request may still take the name first or remove the
 * other admin, and the database decides (the unique indexes; the triggers of
 * drizzle/0003_users_keep_an_admin.sql). The batch is refused whole, its audit row too.
 */
async function guardWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, "users.")) throw new ConflictError("Username or email already exists", "duplicate_resource");
    if (isLastAdminViolation(error)) throw new ConflictError(LAST_ADMIN);
    throw error;
  }
}

const LAST_ADMIN = "This is the last active admin; create another admin first";

function isLastAdminViolation(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message.includes("last_active_admin")) return true;
  }
  return false;
}

/** Refuses a change that would leave no active admin, so the service can always be administered. */
async function assertAnotherActiveAdmin(db: Database, exceptId: number) {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, "admin"), eq(users.isActive, true), ne(users.id, exceptId)));
  if (!row || row.n === 0) throw new ConflictError(LAST_ADMIN);
}

export async function listUsers(db: Database, paging: PageQuery) {
  const [rows, [total]] = await db.batch([
    db.select().from(users).orderBy(desc(users.createdAt), desc(users.id)).limit(paging.limit).offset(paging.offset),
    db.select({ n: count() }).from(users),
  ]);
  return { rows: rows.map(userJson), total: total?.n ?? 0 };
}

export async function getUser(db: Database, id: number) {
  return userJson(await findUser(db, id));
}

export interface NewUserInput {
  username: string;
  email: string;
  password: string;
  role: UserRole;
}

export async function createUser(db: Database, config: Config, actor: Actor, input: NewUserInput) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  await assertUnique(db, input);
  const passwordHash = await hashPassword(input.password, pepper);
  const [[created]] = await guardWrite(() =>
    db.batch([
      db.insert(users).values({ username: input.username, email: input.email, passwordHash, role: input.role }).returning(),
      auditEntry(db, actor, {
        action: "create",
        resource: "user",
        resourceId: sql`SELECT ${users.id} FROM ${users} WHERE ${users.username} = ${input.username}`,
        details: { username: input.username, role: input.role },
      }),
    ]),
  );
  if (!created) throw new Error("insert returned no row");
  return userJson(created);
}

export interface UserChanges {
  email?: string | undefined;
  role?: UserRole | undefined;
  is_active?: boolean | undefined;
}

export async function updateUser(db: Database, actor: Actor, id: number, input: UserChanges) {
  const user = await findUser(db, id);
  const changes = changesOf(userJson(user), { ...input });
  if (Object.keys(changes).length === 0) return { user: userJson(user), changes_made: changes };

  if (changes.email) await assertUnique(db, { email: input.email }, id);
  const losesAdmin = user.role === "admin" && user.isActive && (changes.role !== undefined || input.is_active === false);
  if (losesAdmin) await assertAnotherActiveAdmin(db, id);

  const [[updated]] = await guardWrite(() =>
    db.batch([
      db
        .update(users)
        .set({
          email: input.email,
          role: input.role,
          isActive: input.is_active,
          // A new role or a (de)activation ends the user's sessions: no old token comes back to life.
          ...(changes.role !== undefined || changes.is_active !== undefined ? { tokenGeneration: sql`${users.tokenGeneration} + 1` } : {}),
        })
        .where(eq(users.id, id))
        .returning(),
      auditEntry(db, actor, { action: "update", resource: "user", resourceId: id, details: { changes } }),
    ]),
  );
  return { user: userJson(updated ?? user), changes_made: changes };
}

export async function deleteUser(db: Database, actor: Actor, id: number) {
  const user = await findUser(db, id);
  const identity = actor.identity;
  if (identity?.kind === "user" && identity.userId === id) throw new ConflictError("Cannot delete your own account");
  if (user.role === "admin" && user.isActive) await assertAnotherActiveAdmin(db, id);
  // Audit rows keep their history: their user_id becomes NULL, username and actor stay.
  await guardWrite(() =>
    db.batch([
      db.delete(users).where(eq(users.id, id)),
      auditEntry(db, actor, { action: "delete", resource: "user", resourceId: id, details: { username: user.username } }),
    ]),
  );
  return { message: `User '${user.username}' deleted` };
}

/**
 * Admins set anyone's password; everyone else only their own, proving the current one. Proving it
 * takes an attempt of the login's budget for that username and network (services/login-throttle.ts),
 * so a stolen session cannot guess the current password faster than a login could.
 * A new password also clears a lockout.
 */
export async function changePassword(
  db: Database,
  config: Config,
  actor: Actor,
  id: number,
  input: { current_password?: string | undefined; new_password: string },
) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  const identity = actor.identity;
  const admin = isAdmin(identity);
  if (!admin && !(identity?.kind === "user" && identity.userId === id)) throw new ForbiddenError("You can only change your own password");
  const user = await findUser(db, id);
  if (!admin) {
    const now = Date.now();
    const keys = await throttleKeys(user.username, addressForBudget(actor.ip));
    const [accountBefore, pairRows] = await db.batch(attemptStatements(db, keys, now));
    const slot = slotOf(keys, accountBefore[0], pairRows[0], now);
    refuseUnlessAllowed(slot);
    const { valid } = await verifyPassword(input.current_password ?? "", user.passwordHash, pepper);
    if (!valid) {
      if (slot.lastSlot) throw new AccountLockedError(slot.retryAfterSeconds);
      throw new UnauthorizedError("invalid_credentials", "The current password is incorrect");
    }
  }
  await db.batch([
    db
      .update(users)
      .set({
        passwordHash: await hashPassword(input.new_password, pepper),
        loginAttempts: 0,
        lockedUntil: null,
        // Every session of the user ends, the one that made the change included.
        tokenGeneration: sql`${users.tokenGeneration} + 1`,
      })
      .where(eq(users.id, id)),
    clearAccount(db, await accountKey(user.username)),
    auditEntry(db, actor, { action: "password_change", resource: "user", resourceId: id }),
  ]);
  return { message: "Password changed" };
}

/** Ends every login lockout of a user, for every network (an admin's or the operator key's; audited). */
export async function clearLoginLock(db: Database, actor: Actor, id: number) {
  const user = await findUser(db, id);
  const [cleared] = await db.batch([
    clearAccount(db, await accountKey(user.username)).returning(),
    auditEntry(db, actor, { action: "login_lock_clear", resource: "user", resourceId: id }),
  ]);
  return { message: `Login lockouts of '${user.username}' cleared`, cleared_counts: cleared.length };
}
