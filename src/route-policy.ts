import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import type { Tier } from "./rate-limit/tiers";

/**
 * The least role that may call a route; `public` needs no credentials. Roles rank
 * viewer < operator < admin (see `roleOf` in middleware/auth.ts).
 */
export type Access = "public" | Role;
export type Role = "viewer" | "operator" | "admin";

export interface RoutePolicy {
  tier: Tier;
  access: Access;
}

/**
 * The one table of every route: its rate-limit tier and who may call it (contract, section 5).
 * Keys are "METHOD path" as registered in the app; HEAD follows GET. A test walks the app's
 * routes and fails when one is missing here, or when a row here has no route.
 */
export const ROUTE_POLICIES: Record<string, RoutePolicy> = {
  "GET /health": { tier: "health", access: "public" },
  "GET /health/live": { tier: "health", access: "public" },
  "GET /health/ready": { tier: "health", access: "public" },
  "GET /": { tier: "public", access: "public" },
  "GET /api/info": { tier: "public", access: "public" },
  "GET /api/system/health": { tier: "health", access: "viewer" },
};

/**
 * The policy of the route that will answer this request: the first matched handler that is not
 * middleware (middleware is registered for ALL methods). Undefined when no route matches.
 */
export function policyOf(c: Context): RoutePolicy | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL");
  if (!route) return undefined;
  const policy = ROUTE_POLICIES[`${route.method} ${route.path}`];
  // A route without a row would run unauthenticated and unlimited: refuse it instead.
  if (!policy) throw new AppError("internal_error", "Route has no policy", { context: { route: `${route.method} ${route.path}` } });
  return policy;
}

/** Finds the matched route's policy once, for the middleware after it. */
export function routePolicy(): MiddlewareHandler<AppEnv> {
  return async function routePolicy(c, next) {
    c.set("policy", policyOf(c));
    await next();
  };
}
