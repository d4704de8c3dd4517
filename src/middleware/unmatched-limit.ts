import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { getConfig } from "../config";
import type { AppEnv } from "../context";
import { clientAddress } from "../lib/client";
import { consume } from "../rate-limit/middleware";

/**
 * A request that matches no route (a 404, a 405, a CORS preflight) still costs the caller's
 * address one request of the `public` tier, so probing paths and methods is limited like any
 * public call. Runs before CORS, which answers preflights itself.
 */
export function limitUnmatched(): MiddlewareHandler<AppEnv> {
  return async function limitUnmatched(c, next) {
    if (!matchedRoutes(c).some((route) => route.method !== "ALL")) {
      if (!c.var.config) c.set("config", getConfig(c.env));
      await consume(c, "public", `ip:${clientAddress(c)}`);
    }
    await next();
  };
}
