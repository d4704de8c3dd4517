import { DurableObject } from "cloudflare:workers";

/** What one check decided, in milliseconds; the middleware turns it into headers. */
export interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the oldest counted request leaves the window (a slot frees up). */
  resetMs: number;
}

/**
 * One object per (tier, client) counts that client's requests in that tier with a sliding log:
 * a row per admitted request, so the count over any rolling window is exact. Each check runs
 * synchronously against the object's SQLite storage, so concurrent requests cannot interleave,
 * and a restart or eviction loses nothing. An alarm deletes what has expired, and the whole
 * storage once the client has gone idle.
 */
export class RateLimiter extends DurableObject<Env> {
  #tableReady = false;
  #windowMs: number | undefined;

  /** Counts one request if the budget allows it. */
  check(limit: number, windowMs: number): Decision {
    this.#ensureTable();
    this.#rememberWindow(windowMs);
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    let { count, oldest } = this.#window();
    const allowed = count < limit;
    if (allowed) {
      sql.exec("INSERT INTO hits (at) VALUES (?)", now);
      count += 1;
      oldest ??= now;
      // Everything admitted so far has expired by then; the alarm cleans up.
      void this.ctx.storage.setAlarm(now + windowMs);
    }
    return { allowed, limit, remaining: Math.max(0, limit - count), resetMs: (oldest ?? now) + windowMs - now };
  }

  /** The current state without counting anything (for inspection). */
  peek(limit: number, windowMs: number): Decision {
    this.#ensureTable();
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    const { count, oldest } = this.#window();
    return { allowed: count < limit, limit, remaining: Math.max(0, limit - count), resetMs: oldest === null ? 0 : oldest + windowMs - now };
  }

  /** Forgets every counted request. */
  async clear(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#tableReady = false;
  }

  /** Deletes what has expired; once nothing is left, the object's storage goes entirely. */
  override async alarm(): Promise<void> {
    this.#ensureTable();
    const windowMs = this.ctx.storage.sql.exec<{ window_ms: number }>("SELECT window_ms FROM meta").toArray()[0]?.window_ms;
    if (windowMs === undefined) return this.clear();
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    const newest = this.ctx.storage.sql.exec<{ newest: number | null }>("SELECT max(at) AS newest FROM hits").one().newest;
    if (newest === null) return this.clear();
    await this.ctx.storage.setAlarm(newest + windowMs);
  }

  #window(): { count: number; oldest: number | null } {
    const row = this.ctx.storage.sql.exec<{ count: number; oldest: number | null }>("SELECT count(*) AS count, min(at) AS oldest FROM hits").one();
    return { count: row.count, oldest: row.oldest };
  }

  #ensureTable(): void {
    if (this.#tableReady) return;
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL); CREATE INDEX IF NOT EXISTS hits_at ON hits (at);" +
        "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), window_ms INTEGER NOT NULL)",
    );
    this.#tableReady = true;
    this.#windowMs = undefined;
  }

  /** The alarm needs the window to know what has expired; written only when it changes. */
  #rememberWindow(windowMs: number): void {
    if (this.#windowMs === windowMs) return;
    this.ctx.storage.sql.exec("INSERT INTO meta (id, window_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET window_ms = excluded.window_ms", windowMs);
    this.#windowMs = windowMs;
  }
}
