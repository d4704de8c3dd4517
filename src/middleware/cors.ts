import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { getConfig } from "../config";
import type { AppEnv } from "../context";

/**
 * Browsers may call the API only from the origins in `ALLOWED_ORIGINS` (none by default);
 * scripts and monitors are not affected by CORS. Answers preflights before anything else runs.
 */
export function corsFromConfig(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => (getConfig(c.env).allowedOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE"],
    allowHeaders: ["Content-Type", "Authorization", "X-API-Key", "X-Request-ID", "X-D1-Bookmark"],
    exposeHeaders: ["X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy", "X-D1-Bookmark"],
    maxAge: 600,
  });
}
