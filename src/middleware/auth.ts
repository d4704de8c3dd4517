import type { Context, MiddlewareHandler } from "hono";
import { requireSecret } from "../config";
import type { AppEnv, Identity } from "../context";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { clientIp } from "../lib/client";
import { database } from "../db/client";
import { safeEqual, sha256Hex } from "../lib/crypto";
import { verifySessionToken } from "../lib/session-token";
import { consume } from "../rate-limit/middleware";
import type { Role } from "../route-policy";
import { activeApiKey, sessionUser, touchApiKey } from "../services/auth";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The role an identity acts with: the operator key can do everything. */
export function roleOf(identity: Identity): Role {
  switch (identity.kind) {
    case "operator":
      return "admin";
    case "api_key":
      return identity.role;
    case "user":
      return identity.role === "moderator" ? "operator" : identity.role;
  }
}

/**
 * Establishes who is calling (X-API-Key, Basic `admin:<key>`, or Bearer JWT) on every route
 * that is not public, and refuses callers below the route's role. A failed attempt is counted
 * against the caller's IP in the `public` tier, so keys cannot be guessed at full speed.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const policy = c.var.policy;
    if (!policy || policy.access === "public") return next();

    let identity: Identity;
    try {
      identity = await identify(c);
    } catch (error) {
      if (error instanceof UnauthorizedError) await consume(c, "public", `ip:${clientIp(c)}`);
      throw error;
    }
    if (RANK[roleOf(identity)] < RANK[policy.access]) {
      throw new ForbiddenError(`This route needs the ${policy.access} role`);
    }
    c.set("identity", identity);
    await next();
  };
}

async function identify(c: Context<AppEnv>): Promise<Identity> {
  const apiKey = c.req.header("X-API-Key");
  if (apiKey !== undefined) return identifyKey(c, apiKey);

  const authorization = c.req.header("Authorization") ?? "";
  const [scheme = "", credentials = ""] = authorization.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case "basic":
      return identifyKey(c, basicPassword(credentials));
    case "bearer":
      return identifyToken(c, credentials);
    default:
      throw new UnauthorizedError("unauthorized", "Send X-API-Key, HTTP Basic admin:<key>, or a Bearer token", {
        "WWW-Authenticate": 'Basic realm="mamcrawler", charset="UTF-8"',
      });
  }
}

/** The operator key (the `API_KEY` secret), else a named key that has not been revoked. */
async function identifyKey(c: Context<AppEnv>, key: string): Promise<Identity> {
  const operatorKey = c.var.config.secrets.API_KEY;
  if (key !== "" && operatorKey && (await safeEqual(key, operatorKey))) return { kind: "operator" };
  if (key.startsWith("mam_")) {
    const db = database(c);
    // Looked up by hash: the index lookup reveals nothing about how close a guess was.
    const named = await activeApiKey(db, await sha256Hex(key));
    if (named) {
      touchApiKey(c, db, named);
      return { kind: "api_key", keyId: named.id, name: named.name, role: named.role };
    }
  }
  if (!operatorKey) requireSecret(c.var.config, "API_KEY"); // outside production: says what to set
  throw new UnauthorizedError("invalid_credentials", "The API key is not valid");
}

/** The password of `Basic base64(admin:<key>)`; any other user name yields no key. */
function basicPassword(credentials: string): string {
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(credentials), (ch) => ch.charCodeAt(0)));
  } catch {
    return "";
  }
  const colon = decoded.indexOf(":");
  return colon >= 0 && decoded.slice(0, colon) === "admin" ? decoded.slice(colon + 1) : "";
}

async function identifyToken(c: Context<AppEnv>, token: string): Promise<Identity> {
  const { userId, jti, exp } = await verifySessionToken(token, requireSecret(c.var.config, "JWT_SECRET"));
  // Read the user fresh: a logout, a deactivation or a role change applies to tokens already issued.
  const user = await sessionUser(database(c), userId, jti);
  if (!user) throw new UnauthorizedError("invalid_token", "The token's user no longer exists");
  if (user.revoked) throw new UnauthorizedError("invalid_token", "The token was revoked by a logout");
  if (!user.isActive) throw new ForbiddenError("The account is disabled");
  return { kind: "user", userId, username: user.username, role: user.role, tokenId: jti, expiresAt: exp };
}
