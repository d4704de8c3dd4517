import type { Identity } from "../context";

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
