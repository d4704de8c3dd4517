// How the shared HTTP helper (src/integrations/http.ts) waits between attempts.

/** Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date), or undefined. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter: uniform in [0, base * 2^attempt], so retrying callers spread out. */
export function backoff(baseMs: number, attempt: number): number {
  return Math.round(Math.random() * baseMs * 2 ** attempt);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
