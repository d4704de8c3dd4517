/**
 * Named keys (by hash) this isolate has seen found by a lookup: their next requests count beside
 * the lookup instead of after it (one round trip less), since a limiter named after them is one
 * named after a real key. Bounded in size and age; a key revoked meanwhile is still refused by
 * its lookup, and at most spends its own budget (src/middleware/auth.ts).
 */
const KNOWN_KEY_MS = 10 * 60_000;
const MAX_KNOWN_KEYS = 10_000;
const knownKeys = new Map<string, number>();

export function isKnownKey(keyHash: string, now = Date.now()): boolean {
  const until = knownKeys.get(keyHash);
  if (until === undefined) return false;
  if (until > now) return true;
  knownKeys.delete(keyHash);
  return false;
}

export function rememberKey(keyHash: string, now = Date.now()): void {
  knownKeys.delete(keyHash); // re-inserted last: the map's order is the eviction order
  if (knownKeys.size >= MAX_KNOWN_KEYS) {
    const oldest = knownKeys.keys().next().value;
    if (oldest !== undefined) knownKeys.delete(oldest);
  }
  knownKeys.set(keyHash, now + KNOWN_KEY_MS);
}
