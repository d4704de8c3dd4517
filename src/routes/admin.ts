import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { database } from "../db/client";
import { users as usersTable } from "../db/schema";
import { ForbiddenError } from "../errors";
import { actorFrom } from "../lib/client";
import { page, pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import { createApiKey, listApiKeys, revokeApiKey } from "../services/api-keys";
import { listAuditLogs } from "../services/audit";
import { login, logout, refresh } from "../services/auth";
import {
  changePassword,
  clearLoginLock,
  createUser,
  deleteUser,
  getUser,
  isAdmin,
  listUsers,
  updateUser,
  userJson,
} from "../services/users";
import * as schemas from "./admin.schemas";
import { auditQuery, loginBody, newKeyBody, newUserBody, passwordBody, userChangesBody } from "./admin.schemas";

/** `/api/admin`: sessions, users, the audit trail and named API keys (rate limits: rate-limits.ts). */
export const admin = router();

const tags = ["admin"];
const noUser = errors({ 404: "No user has this id" });

// --- Session -------------------------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "post",
    path: "/login",
    tags,
    summary: "Log in",
    description:
      "Exchanges a username and password for a 30-minute JWT. Five failures from one network (an IPv4 address, an IPv6 /48) lock that network out of the account for thirty minutes (423); while ten networks have tried, each gets one attempt.",
    request: { body: jsonBody(loginBody) },
    responses: {
      200: success(schemas.loginResult, "The token and the user"),
      ...errors({
        401: "Unknown user, wrong password or inactive account",
        423: undefined,
        503: "Login is not configured (JWT_SECRET, PASSWORD_SALT)",
      }),
    },
  }),
  async (c) => {
    const { username: name, password: secret } = c.req.valid("json");
    return ok(c, await login(database(c), c.var.config, actorFrom(c), name, secret));
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/logout",
    tags,
    summary: "Log out",
    description: "Ends the Bearer token's session (its token stops working at once).",
    responses: { 200: success(schemas.messageOnly, "Logged out"), ...errors({ 400: "Only a Bearer token session can log out" }) },
  }),
  async (c) => ok(c, await logout(database(c), actorFrom(c))),
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/refresh",
    tags,
    summary: "Refresh the session",
    description:
      "Exchanges the Bearer token for a new 30-minute one of the same session and revokes the old one. A session lasts at most 12 hours from its login; a logout, or a password, status or role change, ends it at once.",
    responses: {
      200: success(schemas.loginResult, "The new token and the user"),
      ...errors({ 400: "Only a Bearer token session can be refreshed" }),
    },
  }),
  async (c) => ok(c, await refresh(database(c), c.var.config, actorFrom(c))),
);

/** Who the caller is: a user (with its row), a named key, or the operator key. */
admin.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags,
    summary: "Who am I",
    description: "The caller: a user (with their account and token expiry), a named API key, or the operator key.",
    responses: { 200: success(schemas.me, "The caller") },
  }),
  async (c) => {
    const identity = c.var.identity!;
    switch (identity.kind) {
      case "user": {
        const row = await database(c).query.users.findFirst({ where: eq(usersTable.id, identity.userId) });
        return ok(c, {
          kind: "user" as const,
          role: identity.role,
          user: row ? userJson(row) : null,
          token_expires_at: new Date(identity.expiresAt * 1000).toISOString(),
        });
      }
      case "api_key":
        return ok(c, { kind: "api_key" as const, role: identity.role, api_key: { id: identity.keyId, name: identity.name } });
      case "operator":
        return ok(c, { kind: "operator" as const, role: "admin" as const });
    }
  },
);

// --- Users ---------------------------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/users",
    tags,
    summary: "List users",
    description: "A page of the user accounts.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.userPage, "A page of users") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listUsers(database(c), q);
    return ok(c, page("users", rows, total, q));
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/users",
    tags,
    summary: "Create a user",
    description: "Creates a user account (viewer unless a role is given).",
    request: { body: jsonBody(newUserBody) },
    responses: { 201: success(schemas.oneUser, "The new user"), ...errors({ 409: "The username or email is taken" }) },
  }),
  async (c) => created(c, { user: await createUser(database(c), c.var.config, actorFrom(c), c.req.valid("json")) }),
);

/** Admins and moderators may look a user up. */
admin.openapi(
  createRoute({
    method: "get",
    path: "/users/{id}",
    tags,
    summary: "Get a user",
    description: "One user account; for admins and moderator users.",
    request: { params: idParam },
    responses: { 200: success(schemas.oneUser, "The user"), ...noUser },
  }),
  async (c) => {
    const identity = c.var.identity;
    if (!isAdmin(identity) && !(identity?.kind === "user" && identity.role === "moderator")) {
      throw new ForbiddenError("Moderator or admin access required");
    }
    return ok(c, { user: await getUser(database(c), c.req.valid("param").id) });
  },
);

admin.openapi(
  createRoute({
    method: "put",
    path: "/users/{id}",
    tags,
    summary: "Change a user",
    description:
      "Changes a user's email, role or active flag; a role change or deactivation ends their sessions. The last active admin cannot be demoted or deactivated (409).",
    request: { params: idParam, body: jsonBody(userChangesBody) },
    responses: {
      200: success(schemas.userUpdated, "The user and what changed"),
      ...noUser,
      ...errors({ 409: "The email is taken, or this is the last active admin" }),
    },
  }),
  async (c) => ok(c, await updateUser(database(c), actorFrom(c), c.req.valid("param").id, c.req.valid("json"))),
);

admin.openapi(
  createRoute({
    method: "delete",
    path: "/users/{id}",
    tags,
    summary: "Delete a user",
    description: "Deletes a user account; not your own, nor the last active admin.",
    request: { params: idParam },
    responses: {
      200: success(schemas.messageOnly, "Deleted"),
      ...noUser,
      ...errors({ 409: "Your own account, or the last active admin" }),
    },
  }),
  async (c) => ok(c, await deleteUser(database(c), actorFrom(c), c.req.valid("param").id)),
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/users/{id}/password",
    tags,
    summary: "Change a password",
    description:
      "A user changes their own password (sending current_password), or an admin resets anyone's; every session of the user ends.",
    request: { params: idParam, body: jsonBody(passwordBody) },
    responses: {
      200: success(schemas.messageOnly, "Changed"),
      ...noUser,
      ...errors({ 401: "The current password is wrong", 423: "Too many wrong current passwords from this network (the login's budget)" }),
    },
  }),
  async (c) => ok(c, await changePassword(database(c), c.var.config, actorFrom(c), c.req.valid("param").id, c.req.valid("json"))),
);

admin.openapi(
  createRoute({
    method: "delete",
    path: "/users/{id}/login-lock",
    tags,
    summary: "Clear a login lockout",
    description:
      "Forgets every counted password attempt of the user, from every network: the lockouts end at once (audited as login_lock_clear).",
    request: { params: idParam },
    responses: { 200: success(schemas.loginLockCleared, "Cleared"), ...noUser },
  }),
  async (c) => ok(c, await clearLoginLock(database(c), actorFrom(c), c.req.valid("param").id)),
);

// --- Audit trail ---------------------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/audit-logs",
    tags,
    summary: "Audit trail",
    description: "A page of recorded administrative actions, newest first, filtered by user, action or resource.",
    request: { query: auditQuery },
    responses: { 200: success(schemas.auditPage, "A page of audit entries") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listAuditLogs(database(c), q, q);
    return ok(c, page("logs", rows, total, q));
  },
);

// --- API keys ------------------------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/api-keys",
    tags,
    summary: "List API keys",
    description: "A page of the named API keys (never the keys themselves).",
    request: { query: pageQuery },
    responses: { 200: success(schemas.apiKeyPage, "A page of keys") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await listApiKeys(database(c), q);
    return ok(c, page("api_keys", rows, total, q));
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/api-keys",
    tags,
    summary: "Create an API key",
    description: "Creates a named key with the viewer or operator role; the key is answered this once.",
    request: { body: jsonBody(newKeyBody) },
    responses: { 201: success(schemas.apiKeyCreated, "The new key"), ...errors({ 409: "An active key already has this name" }) },
  }),
  async (c) => created(c, { api_key: await createApiKey(database(c), actorFrom(c), c.req.valid("json")) }),
);

admin.openapi(
  createRoute({
    method: "delete",
    path: "/api-keys/{id}",
    tags,
    summary: "Revoke an API key",
    description: "Revokes the key at once; revoking a revoked key changes nothing.",
    request: { params: idParam },
    responses: { 200: success(schemas.apiKeyRevoked, "The revoked key"), ...errors({ 404: "No API key has this id" }) },
  }),
  async (c) => ok(c, { api_key: await revokeApiKey(database(c), actorFrom(c), c.req.valid("param").id) }),
);
