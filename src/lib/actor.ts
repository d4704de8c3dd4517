import type { Identity } from "../context";

/**
 * Who asks, as the services take it: a plain value the route builds from the request
 * (src/lib/client.ts `actorFrom`), so no service needs the request itself.
 */
export interface Actor {
  /** The caller, as authentication established it (none before a login). */
  identity: Identity | undefined;
  /** The client's address as Cloudflare's edge reports it ("unknown" without one). */
  ip: string;
  userAgent: string | null;
}

/** How an identity is written into history rows (`corrected_by`, audit `actor`). */
export function actorOf(identity: Identity | undefined): string {
  switch (identity?.kind) {
    case "operator":
      return "operator";
    case "user":
      return `user:${identity.username}`;
    case "api_key":
      return `key:${identity.name}`;
    default:
      return "system";
  }
}
