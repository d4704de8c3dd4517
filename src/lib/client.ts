import type { Context } from "hono";
import type { AppEnv, Identity } from "../context";
import type { Actor } from "./actor";

/** The caller's address as Cloudflare's edge reports it (set by the edge, not by the caller). */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/** The request's caller as the services take it: identity, address and user agent. */
export function actorFrom(c: Context<AppEnv>): Actor {
  return { identity: c.var.identity, ip: clientIp(c), userAgent: c.req.header("User-Agent") ?? null };
}

/**
 * The address a per-address budget is kept for: an IPv4 address as it is, an IPv6 address by its
 * /64 network (what one subscriber is usually given), so rotating through the addresses of one
 * network gains nothing. An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function clientAddress(c: Context<AppEnv>): string {
  return addressForBudget(clientIp(c));
}

export function addressForBudget(ip: string): string {
  if (!ip.includes(":")) return ip;
  const address = ip.split("%")[0]!.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const halves = address.split("::");
  if (halves.length > 2) return address;
  const groupsOf = (part: string | undefined) => (part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const groups = halves.length === 2 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail] : head;
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** The rate-limit client: the authenticated identity, else the client address (RATE_LIMITING.md, "Clients"). */
export function clientKey(c: Context<AppEnv>, identity: Identity | undefined = c.get("identity")): string {
  switch (identity?.kind) {
    case "operator":
      return "operator";
    case "user":
      return `user:${identity.userId}`;
    case "api_key":
      return `key:${identity.keyId}`;
    default:
      return `ip:${clientAddress(c)}`;
  }
}
