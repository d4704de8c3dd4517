import { DurableObject } from "cloudflare:workers";

/** What one check decided, in milliseconds; the middleware turns it into headers. */
export interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the oldest counted request leaves the window (a slot frees up). */
  resetMs: number;
}

/** The log's size and ends; `oldest` and `newest` are null when it is empty. */
interface Window {
  count: number;
  oldest: number | null;
  newest: number | null;
}

/**
 * One object per (tier, client) counts that client's requests in that tier with a sliding log:
 * a row per admitted request, so the count over any rolling window is exact. Each check runs
 * synchronously against the object's SQLite storage, so concurrent requests cannot interleave,
 * and a restart or eviction loses nothing. An alarm deletes what has expired, and the whole
 * storage once the client has gone idle.
 *
 * The log's size and ends are mirrored in memory (#log): read from storage by the first check after
 * the object starts, then kept in step with each write. Only this object writes its storage and it
 * runs one call at a time, so the mirror cannot drift; storage stays the truth, and a restart or
 * eviction just reads it again. A check where nothing has expired is then a single INSERT (a
 * refusal touches no row); the DELETE and the read of the ends run only when the oldest counted
 * request has left the window.
 */
export class RateLimiter extends DurableObject<Env> {
  #tableReady = false;
  #windowMs: number | undefined;
  #alarmPending = false;
  #log: Window | undefined;

  /** Counts one request if the budget allows it; `now` is the object's clock (a test gives it). */
  check(limit: number, windowMs: number, now = Date.now()): Decision {
    this.#ensureTable();
    this.#rememberWindow(windowMs);
    const log = this.#current(now - windowMs);
    const allowed = log.count < limit;
    if (allowed) {
      // Never before the newest entry, so the log stays in time order (see #read); a clock
      // that stepped back only makes the entry expire later, never admits more.
      const at = Math.max(now, log.newest ?? now);
      this.ctx.storage.sql.exec("INSERT INTO hits (at) VALUES (?)", at);
      log.count += 1;
      log.oldest ??= at;
      log.newest = at;
      this.#scheduleCleanup(at + windowMs);
    }
    return { allowed, limit, remaining: Math.max(0, limit - log.count), resetMs: (log.oldest ?? now) + windowMs - now };
  }

  /** The current state without counting anything (for inspection). */
  peek(limit: number, windowMs: number): Decision {
    this.#ensureTable();
    const now = Date.now();
    const { count, oldest } = this.#current(now - windowMs);
    return { allowed: count < limit, limit, remaining: Math.max(0, limit - count), resetMs: oldest === null ? 0 : oldest + windowMs - now };
  }

  /** Forgets every counted request. */
  async clear(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#tableReady = false;
  }

  /** Deletes what has expired; once nothing is left, the object's storage goes entirely. */
  override async alarm(): Promise<void> {
    this.#alarmPending = false;
    this.#ensureTable();
    const windowMs = this.ctx.storage.sql.exec<{ window_ms: number }>("SELECT window_ms FROM meta").toArray()[0]?.window_ms;
    if (windowMs === undefined) return this.clear();
    const { newest } = this.#current(Date.now() - windowMs);
    if (newest === null) return this.clear();
    this.#scheduleCleanup(newest + windowMs);
  }

  /**
   * The window as of `cutoff` (requests at or before it have expired), from the mirror; storage is
   * touched only to read the mirror after a start or clear, and when the oldest request has expired.
   */
  #current(cutoff: number): Window {
    let log = this.#log;
    if (log === undefined) {
      log = this.#read();
      this.#log = log;
    }
    if (log.oldest !== null && log.oldest <= cutoff) {
      this.ctx.storage.sql.exec("DELETE FROM hits WHERE at <= ?", cutoff);
      log = this.#read();
      this.#log = log;
    }
    return log;
  }

  /**
   * The log's size and ends, without reading it: rows are only appended (rowid = last + 1, `at`
   * never decreasing) and deleted from the old end, so they hold consecutive rowids and the count
   * is last - first + 1. Each bound is one b-tree descent (SQLite answers a lone min() or max()
   * of an indexed column from the index), so this costs the same with 10 or 100,000 requests
   * in the window, where count(*) would read them all.
   */
  #read(): Window {
    const row = this.ctx.storage.sql
      .exec<{ first: number | null; last: number | null; oldest: number | null; newest: number | null }>(
        "SELECT (SELECT min(rowid) FROM hits) AS first, (SELECT max(rowid) FROM hits) AS last," +
          " (SELECT min(at) FROM hits) AS oldest, (SELECT max(at) FROM hits) AS newest",
      )
      .one();
    return { count: row.first === null || row.last === null ? 0 : row.last - row.first + 1, oldest: row.oldest, newest: row.newest };
  }

  /**
   * One pending alarm is enough: when it fires it deletes what has expired and sets itself again
   * for the newest request, so it is not rewritten on every admitted request.
   */
  #scheduleCleanup(at: number): void {
    if (this.#alarmPending) return;
    this.#alarmPending = true;
    void this.ctx.storage.setAlarm(at);
  }

  #ensureTable(): void {
    if (this.#tableReady) return;
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL); CREATE INDEX IF NOT EXISTS hits_at ON hits (at);" +
        "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), window_ms INTEGER NOT NULL)",
    );
    this.#tableReady = true;
    this.#windowMs = undefined;
    this.#alarmPending = false;
    this.#log = undefined;
  }

  /** The alarm needs the window to know what has expired; written only when it changes. */
  #rememberWindow(windowMs: number): void {
    if (this.#windowMs === windowMs) return;
    this.ctx.storage.sql.exec(
      "INSERT INTO meta (id, window_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET window_ms = excluded.window_ms",
      windowMs,
    );
    this.#windowMs = windowMs;
  }
}
