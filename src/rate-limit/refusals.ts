import type { Tier } from "./tiers";

/**
 * Refusals this isolate has been told of, answered here until they expire, without asking the
 * Durable Object (RATE_LIMITING.md, "How it works"). Exact by construction: the object refused because its
 * window held `limit` requests, and refused requests are not counted, so it refuses every request
 * until its oldest counted one leaves the window, `resetMs` after it decided. The expiry kept here
 * is measured from before the call was sent, so it never falls after the object's own: a request
 * answered here is one the object would have refused too, and none is admitted that it would not.
 */
interface Refusal {
  until: number;
  limit: number;
  windowMs: number;
}

/** Bounds the memory a flood of distinct clients can take; the oldest entries go first. */
const MAX_REFUSALS = 10_000;
const refusals = new Map<string, Refusal>();

const keyOf = (tier: Tier, client: string) => `${tier}:${client}`;

/**
 * Milliseconds until (tier, client) may be admitted again, if this isolate knows it is refused
 * now under this budget (a changed `RATE_LIMITS` is a different budget); else undefined.
 */
export function refusedFor(tier: Tier, client: string, limit: number, windowMs: number, now = Date.now()): number | undefined {
  const key = keyOf(tier, client);
  const refusal = refusals.get(key);
  if (!refusal) return undefined;
  if (refusal.until <= now) {
    refusals.delete(key);
    return undefined;
  }
  return refusal.limit === limit && refusal.windowMs === windowMs ? refusal.until - now : undefined;
}

/** Notes a refusal that the object decided after `sentAt`, valid for `resetMs` from its decision. */
export function rememberRefusal(tier: Tier, client: string, limit: number, windowMs: number, sentAt: number, resetMs: number): void {
  const key = keyOf(tier, client);
  refusals.delete(key); // re-inserted last: the map's order is the eviction order
  if (refusals.size >= MAX_REFUSALS) {
    const oldest = refusals.keys().next().value;
    if (oldest !== undefined) refusals.delete(oldest);
  }
  refusals.set(key, { until: sentAt + resetMs, limit, windowMs });
}

/** Forgets (tier, client) here, after an admin cleared its count (other isolates keep theirs until it expires). */
export function forgetRefusal(tier: Tier, client: string): void {
  refusals.delete(keyOf(tier, client));
}
