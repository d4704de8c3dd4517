import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import type { AppEnv } from "../context";
import { ConfigurationError } from "../errors";

/**
 * Reads the configuration for the request and refuses to serve with a broken one: every route
 * but the liveness probe answers 503. Production names nothing; elsewhere the detail says what
 * to fix. Readiness reports the problem itself, so it is let through.
 */
export function configGuard(): MiddlewareHandler<AppEnv> {
  return async function configGuard(c, next) {
    const config = getConfig(c.env);
    c.set("config", config);
    const path = c.req.path.replace(/\/+$/, "");
    if (config.problems.length > 0 && path !== "/health/live" && path !== "/health/ready" && path !== "/health") {
      throw new ConfigurationError(
        config.isProduction
          ? "The service is not configured; see the deployment guide"
          : `Fix the configuration: ${config.problems.join("; ")}`,
      );
    }
    await next();
  };
}
