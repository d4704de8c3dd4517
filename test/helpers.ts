import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../src/app";
import { assertDocumented } from "./openapi/conformance";

export const API_KEY = env.API_KEY;

/**
 * A fresh client address per call, so tests never share a rate-limit budget: IPv6 budgets are
 * kept per /64 network (src/lib/client.ts), so each address is in a network of its own.
 */
export function uniqueIp(): string {
  const n = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${n[0]!.toString(16)}:${n[1]!.toString(16)}::1`;
}

export interface CallOptions extends RequestInit {
  /** Sends the operator key (default false). */
  auth?: boolean;
  ip?: string;
  json?: unknown;
}

function buildRequest(path: string, { auth = false, ip = uniqueIp(), json, headers, ...init }: CallOptions): Request {
  const h = new Headers(headers);
  h.set("CF-Connecting-IP", ip);
  if (auth) h.set("X-API-Key", API_KEY);
  if (json !== undefined) {
    h.set("Content-Type", "application/json");
    init.body = JSON.stringify(json);
  }
  return new Request(new URL(path, "http://api.test"), { ...init, headers: h });
}

/**
 * A request to the Worker as deployed: its default export, with the test bindings. The answer is
 * checked against /openapi.json (test/openapi/conformance.ts).
 */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const request = buildRequest(path, options);
  const response = await exports.default.fetch(request.clone());
  await assertDocumented(request, response);
  return response;
}

/**
 * The same app with some bindings replaced: the default limits (RATE_LIMITING.md), a production
 * environment, or a binding that fails. Keep the returned function to reuse one env object
 * (the configuration is parsed once per env object, as in production).
 */
export function withEnv(overrides: Partial<Record<keyof Env, unknown>>) {
  const patched = { ...env, ...overrides } as Env;
  return async (path: string, options: CallOptions = {}): Promise<Response> => {
    const ctx = createExecutionContext();
    const request = buildRequest(path, options);
    const res = await app.fetch(request.clone(), patched, ctx);
    await waitOnExecutionContext(ctx);
    await assertDocumented(request, res);
    return res;
  };
}

/** The standard error body (src/errors/render.ts), for `toMatchObject`. */
export function errorShape(status: number, error: string) {
  return {
    success: false,
    error,
    code: error.toUpperCase(),
    status_code: status,
    message: expect.any(String),
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    request_id: expect.any(String),
  };
}

/** The test database, counting every statement sent (alone or in a batch): `withEnv({ DB: countingD1(...) })`. */
export function countingD1(count: () => void) {
  const wrapSession = (session: D1DatabaseSession) => ({
    prepare: (query: string) => {
      count();
      return session.prepare(query);
    },
    batch: (statements: D1PreparedStatement[]) => session.batch(statements),
    getBookmark: () => session.getBookmark(),
  });
  return {
    withSession: (constraint?: string) => wrapSession(env.DB.withSession(constraint as D1SessionConstraint)),
    prepare: env.DB.prepare.bind(env.DB),
  };
}
