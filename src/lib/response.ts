import type { Context } from "hono";

/**
 * The success envelope every route answers in (README, "Walk-through with curl"). The status is a
 * literal in the answer's type, so that a declared route's handler is checked against the
 * response schema of that status (src/openapi/declare.ts).
 */
export function ok<T>(c: Context, data: T) {
  return c.json(envelope(data), 200);
}

export function created<T>(c: Context, data: T) {
  return c.json(envelope(data), 201);
}

/** 202: the work was accepted and goes on after the answer. */
export function accepted<T>(c: Context, data: T) {
  return c.json(envelope(data), 202);
}

function envelope<T>(data: T) {
  return { success: true as const, data, error: null, timestamp: new Date().toISOString() };
}
