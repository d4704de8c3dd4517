import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { RateLimitError, ServiceUnavailableError } from "../errors";
import { clientAddress } from "../lib/client";
import { withDeadline } from "../lib/deadline";
import type { Decision } from "./durable-object";
import { refusedFor, rememberRefusal } from "./refusals";
import { FAIL_CLOSED_TIERS, type Tier } from "./tiers";

/** A limiter that takes longer than this is treated as down (the fail-open/closed policy applies). */
export const LIMITER_TIMEOUT_MS = 3_000;

/** The Durable Object that counts one (tier, client) budget. */
export function limiterFor(env: Env, tier: Tier, client: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${tier}:${client}`));
}

function headersOf(tier: Tier, limit: number, windowMs: number, remaining: number, resetMs: number) {
  const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
  return {
    resetSeconds,
    headers: {
      "RateLimit-Policy": `"${tier}";q=${limit};w=${Math.round(windowMs / 1000)}`,
      RateLimit: `"${tier}";r=${remaining};t=${resetSeconds}`,
    },
  };
}

/**
 * The 429 for (tier, client) when this isolate already knows it is refused (src/rate-limit/refusals.ts),
 * without asking the Durable Object; undefined otherwise.
 */
export function knownRefusal(c: Context<AppEnv>, tier: Tier, client: string): RateLimitError | undefined {
  const { limit, windowMs } = c.get("config").rateLimits[tier];
  const waitMs = refusedFor(tier, client, limit, windowMs);
  if (waitMs === undefined) return undefined;
  const { resetSeconds, headers } = headersOf(tier, limit, windowMs, 0, waitMs);
  return new RateLimitError(tier, resetSeconds, headers);
}

/**
 * Counts one request of `client` against `tier`, sets the IETF draft headers, and throws 429
 * when the budget is spent. A refusal this isolate already knows of is answered without asking
 * the Durable Object. When the limiter cannot be reached, fail-closed tiers answer 503 and the
 * others go on unlimited, with a warning in the logs.
 */
export async function consume(c: Context<AppEnv>, tier: Tier, client: string): Promise<void> {
  const refused = knownRefusal(c, tier, client);
  if (refused) throw refused;
  const { limit, windowMs } = c.get("config").rateLimits[tier];
  const sentAt = Date.now();
  let decision: Decision;
  try {
    decision = await withDeadline(
      limiterFor(c.env, tier, client).check(limit, windowMs),
      LIMITER_TIMEOUT_MS,
      "The rate limiter did not answer in time",
    );
  } catch (error) {
    const failClosed = FAIL_CLOSED_TIERS.has(tier);
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "rate_limiter_unavailable",
        tier,
        policy: failClosed ? "fail_closed" : "fail_open",
        request_id: c.var.requestId,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    if (failClosed) throw new ServiceUnavailableError("Rate limiting is unavailable; try again shortly", { "Retry-After": "5" });
    return;
  }
  const { resetSeconds, headers } = headersOf(tier, limit, windowMs, decision.remaining, decision.resetMs);
  if (!decision.allowed) {
    rememberRefusal(tier, client, limit, windowMs, sentAt, decision.resetMs);
    throw new RateLimitError(tier, resetSeconds, headers);
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}

/**
 * Limits every request to a public route, by the route's tier and the caller's address. Routes
 * that take credentials are counted by `authenticate()` (src/middleware/auth.ts), beside their
 * identity lookup, against the client their credential names.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const policy = c.get("policy");
    if (policy?.access === "public") await consume(c, policy.tier, `ip:${clientAddress(c)}`);
    await next();
  };
}
