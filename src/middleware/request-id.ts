import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

const CALLER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `req_` + 12 hex characters, as the original's error responses had. */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `req_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Takes the caller's `X-Request-ID` when it is safe to echo (1..64 of `[A-Za-z0-9._-]`), else
 * makes one, and puts it on every response, errors included (`onError` reads `c.var.requestId`).
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestId(c, next) {
    const sent = c.req.header("X-Request-ID");
    const id = sent && CALLER_ID.test(sent) ? sent : newRequestId();
    c.set("requestId", id);
    c.header("X-Request-ID", id);
    await next();
  };
}
