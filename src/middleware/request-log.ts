import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { getConfig } from "../config";
import type { AppEnv } from "../context";
import { clientKey } from "../lib/client";
import { hmacHex } from "../lib/crypto";
import { workerVersion } from "../version";

/**
 * Without any secret (an unconfigured development Worker): a key of this isolate only, made on
 * first use (workerd forbids random values in the global scope).
 */
let isolateKey: string | undefined;
const randomKey = () => Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * One JSON line per request for Workers Logs: request id, method, route pattern (not the raw
 * path, which may carry names), status, duration, tier, the Worker version that answered (two
 * serve side by side during a gradual deploy), and the client as a short keyed hash
 * (HMAC-SHA256 under JWT_SECRET): never a key, a token or an address, and not reversible by
 * hashing every IPv4 address or user id without the secret.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = performance.now();
    await next();
    const version = workerVersion(c.env);
    const route = matchedRoutes(c).find((r) => r.method !== "ALL");
    console.log(
      JSON.stringify({
        level: "info",
        event: "request",
        request_id: c.get("requestId"),
        method: c.req.method,
        route: route?.path ?? null,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        tier: c.get("policy")?.tier ?? null,
        version_id: version.id,
        version_tag: version.tag,
        client: await clientHash(logKey(c.env), clientKey(c)),
      }),
    );
  };
}

/**
 * The client's short hash, kept per isolate for the clients it saw last (an HMAC is an async
 * Web Crypto call on every request otherwise). At most CLIENT_HASHES entries: the oldest go first.
 */
const CLIENT_HASHES = 1024;
const clientHashes = new Map<string, string>();
let hashedUnder: string | undefined;

async function clientHash(key: string, client: string): Promise<string> {
  // Another key (the secret rotated, or another env in tests): the kept hashes are not its.
  if (key !== hashedUnder) {
    clientHashes.clear();
    hashedUnder = key;
  }
  let hash = clientHashes.get(client);
  if (hash === undefined) {
    hash = (await hmacHex(key, `request-log-client:${client}`)).slice(0, 16);
    if (clientHashes.size >= CLIENT_HASHES) clientHashes.delete(clientHashes.keys().next().value!);
    clientHashes.set(client, hash);
  }
  return hash;
}

function logKey(env: Env): string {
  const { JWT_SECRET, API_KEY } = getConfig(env).secrets;
  return JWT_SECRET ?? API_KEY ?? (isolateKey ??= randomKey());
}
