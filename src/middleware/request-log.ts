import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../context";
import { clientKey } from "../lib/client";
import { sha256Hex } from "../lib/crypto";

/**
 * One JSON line per request for Workers Logs: request id, method, route pattern (not the raw
 * path, which may carry names), status, duration, tier, and the client as a short hash: never
 * a key, a token or an address.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = performance.now();
    await next();
    const route = matchedRoutes(c).find((r) => r.method !== "ALL");
    console.log(
      JSON.stringify({
        level: "info",
        event: "request",
        request_id: c.var.requestId,
        method: c.req.method,
        route: route?.path ?? null,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        tier: c.var.policy?.tier ?? null,
        client: (await sha256Hex(`client:${clientKey(c)}`)).slice(0, 16),
      }),
    );
  };
}
