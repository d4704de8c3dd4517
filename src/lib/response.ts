import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The success envelope every route answers in (README, "Walk-through with curl"). */
export function ok<T>(c: Context, data: T, status: ContentfulStatusCode = 200) {
  return c.json({ success: true as const, data, error: null, timestamp: new Date().toISOString() }, status);
}

export function created<T>(c: Context, data: T) {
  return ok(c, data, 201);
}
