import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/**
 * Every answer under /api (data, errors, refusals) is private to its caller and current only
 * now: no browser or proxy may keep it (`Cache-Control: no-store`).
 */
export function noStoreApi(): MiddlewareHandler<AppEnv> {
  return async function noStoreApi(c, next) {
    await next();
    if (c.req.path === "/api" || c.req.path.startsWith("/api/")) c.header("Cache-Control", "no-store");
  };
}
