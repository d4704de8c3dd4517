import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { RateLimitError, ServiceUnavailableError } from "../errors";
import { clientKey } from "../lib/client";
import { withDeadline } from "../lib/deadline";
import type { Decision } from "./durable-object";
import { FAIL_CLOSED_TIERS, type Tier } from "./tiers";

/** A limiter that takes longer than this is treated as down (the fail-open/closed policy applies). */
export const LIMITER_TIMEOUT_MS = 3_000;

/** The Durable Object that counts one (tier, client) budget. */
export function limiterFor(env: Env, tier: Tier, client: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${tier}:${client}`));
}

/**
 * Counts one request of `client` against `tier`, sets the IETF draft headers, and throws 429
 * when the budget is spent. When the limiter cannot be reached, fail-closed tiers answer 503
 * and the others go on unlimited, with a warning in the logs.
 */
export async function consume(c: Context<AppEnv>, tier: Tier, client: string): Promise<void> {
  const { limit, windowMs } = c.var.config.rateLimits[tier];
  let decision: Decision;
  try {
    decision = await withDeadline(limiterFor(c.env, tier, client).check(limit, windowMs), LIMITER_TIMEOUT_MS, "The rate limiter did not answer in time");
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
  const resetSeconds = Math.max(1, Math.ceil(decision.resetMs / 1000));
  const headers = {
    "RateLimit-Policy": `"${tier}";q=${limit};w=${Math.round(windowMs / 1000)}`,
    RateLimit: `"${tier}";r=${decision.remaining};t=${resetSeconds}`,
  };
  if (!decision.allowed) throw new RateLimitError(tier, resetSeconds, headers);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}

/** Limits every request that matched a route, by the route's tier and the caller. */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const policy = c.var.policy;
    if (policy) await consume(c, policy.tier, clientKey(c));
    await next();
  };
}
