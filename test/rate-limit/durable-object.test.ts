import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { limiterFor } from "../../src/rate-limit/middleware";

// The limiter keeps its log's size and ends in memory between checks (src/rate-limit/durable-object.ts);
// these are the moments that memory could be wrong, seen as a caller sees them: allowed, remaining and
// the reset. Times are given to the object explicitly, far ahead of the clock, so no alarm fires.
const T0 = Date.UTC(2030, 0, 1);
const WINDOW = 60_000;

function freshLimiter() {
  return limiterFor(env, "public", `ip:mirror-${crypto.randomUUID()}`);
}

/** What a caller reads from one check. */
async function checkAt(limiter: ReturnType<typeof freshLimiter>, at: number, limit = 3) {
  const { allowed, remaining, resetMs } = await limiter.check(limit, WINDOW, at);
  return { allowed, remaining, resetMs };
}

describe("the rate limiter's log across its own lifetime", () => {
  it("restarted mid-window, it counts on from what it stored: the same remaining, reset and expiry", async () => {
    const limiter = freshLimiter();
    expect(await checkAt(limiter, T0)).toEqual({ allowed: true, remaining: 2, resetMs: WINDOW });
    expect(await checkAt(limiter, T0 + 10_000)).toEqual({ allowed: true, remaining: 1, resetMs: 50_000 });
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + 20_000)).toEqual({ allowed: true, remaining: 0, resetMs: 40_000 });
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + 30_000)).toEqual({ allowed: false, remaining: 0, resetMs: 30_000 });
    // The first request leaves the window: one slot, and the next reset follows the second request.
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + WINDOW)).toEqual({ allowed: true, remaining: 0, resetMs: 10_000 });
    expect(await checkAt(limiter, T0 + WINDOW + 1)).toEqual({ allowed: false, remaining: 0, resetMs: 9_999 });
  });

  it("after some of the window's requests expire, counts exactly the ones left", async () => {
    const limiter = freshLimiter();
    for (const at of [T0, T0, T0 + 5_000, T0 + 40_000]) await checkAt(limiter, at, 10);
    // At T0 + 60,000 both T0 requests have left (a request counts for exactly the window), the others remain.
    expect(await checkAt(limiter, T0 + WINDOW, 10)).toEqual({ allowed: true, remaining: 7, resetMs: 5_000 });
    expect(await checkAt(limiter, T0 + WINDOW + 5_000, 10)).toEqual({ allowed: true, remaining: 7, resetMs: 35_000 });
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + WINDOW + 5_001, 10)).toEqual({ allowed: true, remaining: 6, resetMs: 34_999 });
  });

  it("cleared, it has a full budget at once, and counts from zero", async () => {
    const limiter = freshLimiter();
    for (let i = 0; i < 3; i++) await checkAt(limiter, T0 + i);
    expect((await checkAt(limiter, T0 + 10)).allowed).toBe(false);
    await limiter.clear();
    expect(await checkAt(limiter, T0 + 20)).toEqual({ allowed: true, remaining: 2, resetMs: WINDOW });
    expect(await checkAt(limiter, T0 + 30)).toEqual({ allowed: true, remaining: 1, resetMs: WINDOW - 10 });
    // What the clear left is what a restart reads.
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + 40)).toEqual({ allowed: true, remaining: 0, resetMs: WINDOW - 20 });
    expect((await checkAt(limiter, T0 + 50)).allowed).toBe(false);
  });

  it("when its clock steps back, admits no more and lets the request expire later, before and after a restart", async () => {
    const limiter = freshLimiter();
    expect(await checkAt(limiter, T0 + 30_000)).toEqual({ allowed: true, remaining: 2, resetMs: WINDOW });
    // The clock steps 30 s back: the request is counted as of T0 + 30,000, the newest entry.
    expect(await checkAt(limiter, T0)).toEqual({ allowed: true, remaining: 1, resetMs: WINDOW + 30_000 });
    expect(await checkAt(limiter, T0 + 1)).toEqual({ allowed: true, remaining: 0, resetMs: WINDOW + 29_999 });
    expect((await checkAt(limiter, T0 + 2)).allowed).toBe(false);
    // A window after the stepped-back requests, they still count: they expire with the newest entry.
    expect(await checkAt(limiter, T0 + WINDOW + 1)).toEqual({ allowed: false, remaining: 0, resetMs: 29_999 });
    await evictDurableObject(limiter);
    expect(await checkAt(limiter, T0 + WINDOW + 2)).toEqual({ allowed: false, remaining: 0, resetMs: 29_998 });
    // All three leave together.
    expect(await checkAt(limiter, T0 + 30_000 + WINDOW)).toEqual({ allowed: true, remaining: 2, resetMs: WINDOW });
  });
});

describe("what a check costs in SQLite rows (RATE_LIMITING.md, Costs)", () => {
  /** Rows read and written, and statements run, by `call` on the object's storage. */
  function rowsOf(state: DurableObjectState, call: () => void) {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    const cursors: { rowsRead: number; rowsWritten: number }[] = [];
    sql.exec = ((...args: Parameters<typeof exec>) => {
      const cursor = exec(...args);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
    try {
      call();
    } finally {
      sql.exec = exec;
    }
    return {
      statements: cursors.length,
      read: cursors.reduce((sum, c) => sum + c.rowsRead, 0),
      written: cursors.reduce((sum, c) => sum + c.rowsWritten, 0),
    };
  }

  it("an admitted request where nothing expired writes its row and index entry and reads none; a refusal touches no row", async () => {
    const limiter = freshLimiter();
    for (let i = 0; i < 2; i++) await checkAt(limiter, T0 + i);
    const costs = await runInDurableObject(limiter, (instance, state) => ({
      admitted: rowsOf(state, () => instance.check(3, WINDOW, T0 + 10)),
      refused: rowsOf(state, () => instance.check(3, WINDOW, T0 + 20)),
    }));
    expect(costs).toEqual({ admitted: { statements: 1, read: 0, written: 2 }, refused: { statements: 0, read: 0, written: 0 } });
  });

  it("reads the window's ends again only when its oldest request has left it", async () => {
    const limiter = freshLimiter();
    for (let i = 0; i < 3; i++) await checkAt(limiter, T0 + i, 10);
    const expired = await runInDurableObject(limiter, (instance, state) => rowsOf(state, () => instance.check(10, WINDOW, T0 + WINDOW)));
    // The DELETE of the one expired row, the read of the ends, the INSERT.
    expect(expired.statements).toBe(3);
    expect(expired.read).toBeGreaterThan(0);
  });
});
