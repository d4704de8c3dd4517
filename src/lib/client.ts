import type { Context } from "hono";
import type { AppEnv, Identity } from "../context";

/** The caller's address as Cloudflare's edge reports it (set by the edge, not by the caller). */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/** The rate-limit client: the authenticated identity, else the IP address (contract, section 4). */
export function clientKey(c: Context<AppEnv>, identity: Identity | undefined = c.get("identity")): string {
  switch (identity?.kind) {
    case "operator":
      return "operator";
    case "user":
      return `user:${identity.userId}`;
    case "api_key":
      return `key:${identity.keyId}`;
    default:
      return `ip:${clientIp(c)}`;
  }
}
