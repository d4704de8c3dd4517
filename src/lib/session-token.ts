import { sign, verify } from "hono/jwt";
import { UnauthorizedError } from "../errors";

/** The claims of a session token this service issued (services/auth.ts, `login`). */
export interface SessionClaims {
  userId: number;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** The user's token generation when issued (tokens from before the claim existed: 0). */
  gen: number;
  /** When the session's login happened, kept through refreshes (tokens from before the claim: iat). */
  authTime: number;
}

/** Signs a session token (HS256) with the claims of a login: what `verifySessionToken` reads back. */
export function signSessionToken(
  claims: { sub: string; username: string; role: string; jti: string; iat: number; exp: number; gen: number; auth_time: number },
  secret: string,
): Promise<string> {
  return sign(claims, secret, "HS256");
}

/**
 * Checks a Bearer token: the HS256 signature first (a token whose header names another algorithm,
 * or "none", is refused), and only then its expiry, so a forged token is never told apart from a
 * merely old one (`token_expired` means "this was ours").
 */
export async function verifySessionToken(token: string, secret: string): Promise<SessionClaims> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, secret, { alg: "HS256", exp: false });
  } catch {
    throw new UnauthorizedError("invalid_token", "The token is not valid");
  }
  const { sub, jti, exp, iat, gen = 0, auth_time = iat } = payload;
  const userId = Number(sub);
  if (
    !Number.isInteger(userId) ||
    typeof jti !== "string" ||
    typeof exp !== "number" ||
    typeof iat !== "number" ||
    !Number.isInteger(gen) ||
    typeof auth_time !== "number"
  ) {
    throw new UnauthorizedError("invalid_token", "The token is missing required claims");
  }
  if (exp <= Math.floor(Date.now() / 1000)) throw new UnauthorizedError("token_expired", "The token has expired; log in again");
  return { userId, jti, iat, exp, gen: gen as number, authTime: auth_time };
}
