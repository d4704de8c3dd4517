import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

const NO_STORE = ["/api", "/health"];

/**
 * Every answer under /api (data, errors, refusals) is private to its caller and current only
 * now, and a health probe's is current only now: no browser or proxy may keep them
 * (`Cache-Control: no-store`).
 */
export function noStoreApi(): MiddlewareHandler<AppEnv> {
  return async function noStoreApi(c, next) {
    await next();
    const path = c.req.path;
    if (NO_STORE.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) c.header("Cache-Control", "no-store");
  };
}
