import type { Context, MiddlewareHandler } from "hono";
import { requireSecret } from "../config";
import type { AppEnv, Identity } from "../context";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { clientAddress, keyClient } from "../lib/client";
import { safeEqual, sha256Hex } from "../lib/crypto";
import { verifySessionToken } from "../lib/session-token";
import { consume, knownRefusal } from "../rate-limit/middleware";
import type { Role } from "../route-policy";
import { isKnownKey, rememberKey } from "./known-keys";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * The lookups of named keys and users, with drizzle and the tables they read: loaded by the first
 * credential that needs one, not at startup (the operator key and public routes never do).
 */
async function lookups() {
  const [{ database }, { activeApiKey, sessionUser, touchApiKey }] = await Promise.all([
    import("../db/client"),
    import("../services/auth"),
  ]);
  return { database, activeApiKey, sessionUser, touchApiKey };
}

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
 * What a request's credentials say before any lookup: the rate-limit client they belong to, and
 * the lookup that turns them into an identity. The client comes from the credential itself (the
 * operator key compared here, a named key's hash, a token's verified subject), never from anything
 * a caller can set at will, so it is known before the lookup and both can run side by side.
 */
interface Credential {
  client: string;
  /**
   * The credential was proven before any lookup (the operator key compared, a token's signature
   * checked, a named key this isolate saw found). Otherwise only its lookup proves it: until
   * then nothing is named after it.
   */
  verified: boolean;
  identify: () => Promise<Identity>;
  /** Runs once the request is admitted (after both the lookup and the limiter said yes). */
  admitted?: () => void;
}

/**
 * Establishes who is calling (X-API-Key, Basic `admin:<key>`, or Bearer JWT) on every route that
 * is not public, refuses callers below the route's role, and counts the request against the
 * route's tier (RATE_LIMITING.md, "How it works"). For a verified credential the limiter check and
 * the identity lookup run concurrently, and the request goes on only once both have answered. A
 * named key this isolate has not yet seen found is looked up first and counted only once it is
 * known to exist, so no limiter object is ever named after a guess; and an address the isolate
 * knows is refused in the `public` tier is answered 429 before its unverified key costs a lookup. A refusal the isolate already knows of is
 * answered before any lookup. A failed attempt is counted against the caller's IP in the `public`
 * tier, so keys cannot be guessed at full speed. Public routes are limited by `rateLimit()`.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const policy = c.get("policy");
    if (!policy || policy.access === "public") return next();

    let identity: Identity;
    try {
      const credential = await readCredential(c);
      const refused =
        (credential.verified ? undefined : knownRefusal(c, "public", `ip:${clientAddress(c)}`)) ??
        knownRefusal(c, policy.tier, credential.client);
      if (refused) throw refused;
      if (credential.verified) {
        const [looked, limited] = await Promise.allSettled([credential.identify(), consume(c, policy.tier, credential.client)]);
        if (looked.status === "rejected") throw looked.reason;
        if (limited.status === "rejected") throw limited.reason;
        identity = looked.value;
      } else {
        identity = await credential.identify();
        await consume(c, policy.tier, credential.client);
      }
      credential.admitted?.();
    } catch (error) {
      if (error instanceof UnauthorizedError) await consume(c, "public", `ip:${clientAddress(c)}`);
      throw error;
    }
    if (RANK[roleOf(identity)] < RANK[policy.access]) {
      throw new ForbiddenError(`This route needs the ${policy.access} role`);
    }
    c.set("identity", identity);
    await next();
  };
}

async function readCredential(c: Context<AppEnv>): Promise<Credential> {
  const apiKey = c.req.header("X-API-Key");
  const authorization = c.req.header("Authorization") ?? "";
  // An empty X-API-Key (a client's unset variable) does not hide a Bearer token or Basic key sent beside it.
  if (apiKey !== undefined && (apiKey !== "" || authorization.trim() === "")) return keyCredential(c, apiKey);

  const [scheme = "", credentials = ""] = authorization.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case "basic":
      return keyCredential(c, basicPassword(credentials));
    case "bearer":
      return tokenCredential(c, credentials);
    default:
      throw new UnauthorizedError("unauthorized", "Send X-API-Key, HTTP Basic admin:<key>, or a Bearer token", {
        "WWW-Authenticate": 'Basic realm="mamcrawler", charset="UTF-8"',
      });
  }
}

/** The operator key (the `API_KEY` secret), else a named key that has not been revoked. */
async function keyCredential(c: Context<AppEnv>, key: string): Promise<Credential> {
  const operatorKey = c.var.config.secrets.API_KEY;
  if (key !== "" && operatorKey && (await safeEqual(key, operatorKey)))
    return { client: "operator", verified: true, identify: async () => ({ kind: "operator" }) };
  if (key.startsWith("mam_")) {
    // Looked up by hash: the index lookup reveals nothing about how close a guess was.
    const keyHash = await sha256Hex(key);
    let touch: (() => Promise<unknown> | undefined) | undefined;
    return {
      client: keyClient(keyHash),
      verified: isKnownKey(keyHash),
      identify: async () => {
        const { database, activeApiKey, touchApiKey } = await lookups();
        const found = await activeApiKey(database(c), keyHash);
        if (!found) throw new UnauthorizedError("invalid_credentials", "The API key is not valid");
        rememberKey(keyHash);
        touch = () => touchApiKey(database(c), found);
        return { kind: "api_key", keyId: found.id, name: found.name, role: found.role };
      },
      admitted: () => {
        const touched = touch?.();
        if (touched) c.executionCtx.waitUntil(touched);
      },
    };
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

/** A Bearer token: its signature and claims are checked here, locally; the user is read by `identify`. */
async function tokenCredential(c: Context<AppEnv>, token: string): Promise<Credential> {
  const { userId, jti, exp, gen, authTime } = await verifySessionToken(token, requireSecret(c.var.config, "JWT_SECRET"));
  return {
    // The verified subject: only this service can sign a token for a user.
    client: `user:${userId}`,
    verified: true,
    identify: async () => {
      // Read the user fresh: a logout, a deactivation or a role change applies to tokens already issued.
      const { database, sessionUser } = await lookups();
      const user = await sessionUser(database(c), userId, jti);
      if (!user) throw new UnauthorizedError("invalid_token", "The token's user no longer exists");
      if (user.revoked) throw new UnauthorizedError("invalid_token", "The token was revoked by a logout");
      if (!user.isActive) throw new ForbiddenError("The account is disabled");
      if (user.tokenGeneration !== gen)
        throw new UnauthorizedError(
          "invalid_token",
          "The account's password, status or role changed since the token was issued; log in again",
        );
      return { kind: "user", userId, username: user.username, role: user.role, tokenId: jti, expiresAt: exp, sessionStartedAt: authTime };
    },
  };
}
