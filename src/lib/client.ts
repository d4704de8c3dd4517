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
 * network gains nothing. An IPv4-mapped IPv6 address (dotted or hex) counts as its IPv4 address.
 * However it is spelled (case, leading zeros, `::`, brackets, a zone, an IPv4 tail, a `/64`
 * already), one address has one form, so no spelling gets a budget of its own; what is no address
 * at all counts as `unknown`.
 */
export function clientAddress(c: Context<AppEnv>): string {
  return addressForBudget(clientIp(c));
}

export function addressForBudget(ip: string): string {
  const text = ip.trim().toLowerCase();
  const v4 = ipv4(text);
  if (v4) return v4.join(".");
  const groups = ipv6(text);
  if (!groups) return "unknown";
  // ::ffff:a.b.c.d, however spelled: the IPv4 client itself.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** Four decimal octets (leading zeros read as decimal, as Cloudflare never sends them), else undefined. */
function ipv4(text: string): number[] | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  return parts?.every((n) => n <= 255) ? parts : undefined;
}

/** The eight 16-bit groups of an IPv6 address (brackets, a zone and a trailing /64 allowed), else undefined. */
function ipv6(text: string): number[] | undefined {
  const bare = text
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\/64$/, "")
    .replace(/%.*$/, "");
  if (!bare.includes(":")) return undefined;
  const halves = bare.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      const v4 = i === pieces.length - 1 ? ipv4(piece) : undefined;
      if (v4) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      else if (/^[0-9a-f]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined;
}

/** The rate-limit client of a named key: `key:` and the key's SHA-256, which only its holder can produce. */
export const keyClient = (keyHash: string) => `key:${keyHash}`;

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
