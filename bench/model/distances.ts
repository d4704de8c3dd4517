// The latency model's bindings: the real local D1 and Durable Objects, each call delayed by the
// round trip a caller far from the D1 primary would pay (README, Performance, "A far caller"):
//   D1 primary 150 ms, the nearest D1 replica 10 ms, the caller's limiter object 5 ms.
// Nothing else changes, so the app's own code decides what runs side by side and what waits.
import { AsyncLocalStorage } from "node:async_hooks";

export const DISTANCES = { primaryMs: 150, replicaMs: 10, limiterMs: 5 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WRITE = /^\s*(insert|update|delete|replace)\b/i;

interface Call {
  realEnd: number | undefined;
  modelEnd: number;
  depth: number;
}

/**
 * One request's remote calls on the model's clock, which the machine's load cannot stretch: a call
 * starts (in the model) when the last call that had finished before it began (for real) ends, so
 * calls in flight together overlap and a call made after another waits for it. The real delays
 * keep the real order of events the model's order (a 5 ms limiter call ends before a 10 ms query).
 */
export class Timeline {
  #calls: Call[] = [];
  #open = true;

  begin(ms: number): Call | undefined {
    if (!this.#open) return undefined; // after the response (waitUntil): not on the caller's path
    const now = performance.now();
    let start = 0;
    let depth = 0;
    for (const call of this.#calls) {
      if (call.realEnd !== undefined && call.realEnd <= now) {
        start = Math.max(start, call.modelEnd);
        depth = Math.max(depth, call.depth);
      }
    }
    const call = { realEnd: undefined, modelEnd: start + ms, depth: depth + 1 };
    this.#calls.push(call);
    return call;
  }

  end(call: Call | undefined) {
    if (call) call.realEnd = performance.now();
  }

  /** Closes the timeline: the modelled wait for remote calls and the longest chain of them. */
  close(): { remoteMs: number; sequentialCalls: number } {
    this.#open = false;
    return {
      remoteMs: Math.max(0, ...this.#calls.map((c) => c.modelEnd)),
      sequentialCalls: Math.max(0, ...this.#calls.map((c) => c.depth)),
    };
  }
}

export const timelines = new AsyncLocalStorage<Timeline>();

/** A remote call `ms` away: waits, runs, and is noted on the request's timeline. */
async function remote<T>(ms: number, call: () => Promise<T>): Promise<T> {
  const timeline = timelines.getStore();
  const noted = timeline?.begin(ms);
  try {
    await sleep(ms);
    return await call();
  } finally {
    timeline?.end(noted);
  }
}

/**
 * Where one D1 call goes. Without a session (the binding itself) every call goes to the primary.
 * In a session: writes go to the primary; a `first-primary` session's first call too; after the
 * session has written, its reads wait for the primary as well (a replica has not caught up with a
 * write made a moment ago); every other read is answered by the nearest replica.
 */
class Route {
  #calls = 0;
  #written = false;
  constructor(readonly start: "none" | "first-primary" | "replica") {}

  delay(sql: readonly string[]): number {
    const writes = sql.some((s) => WRITE.test(s));
    const primary = this.start === "none" || writes || this.#written || (this.start === "first-primary" && this.#calls === 0);
    this.#calls += 1;
    if (writes) this.#written = true;
    return primary ? DISTANCES.primaryMs : DISTANCES.replicaMs;
  }
}

class Statement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly sql: string,
    readonly route: Route,
  ) {}
  bind(...values: unknown[]) {
    return new Statement(this.inner.bind(...values), this.sql, this.route);
  }
  #after<T>(call: () => Promise<T>): Promise<T> {
    return remote(this.route.delay([this.sql]), call);
  }
  first(column?: string) {
    return this.#after(() => (column === undefined ? this.inner.first() : this.inner.first(column)));
  }
  run() {
    return this.#after(() => this.inner.run());
  }
  all() {
    return this.#after(() => this.inner.all());
  }
  raw(options?: { columnNames?: boolean }) {
    return this.#after(() => this.inner.raw(options as { columnNames: true }));
  }
}

function distant(inner: D1Database | D1DatabaseSession, route: Route) {
  return {
    prepare: (sql: string) => new Statement(inner.prepare(sql), sql, route),
    batch: (statements: Statement[]) =>
      remote(route.delay(statements.map((s) => s.sql)), () => inner.batch(statements.map((s) => s.inner))),
  };
}

function distantD1(db: D1Database): D1Database {
  const noSession = new Route("none");
  return {
    ...distant(db, noSession),
    exec: (sql: string) => remote(DISTANCES.primaryMs, () => db.exec(sql)),
    withSession(constraint?: string) {
      const start = constraint === "first-primary" ? "first-primary" : "replica";
      const session = db.withSession(constraint);
      return { ...distant(session, new Route(start)), getBookmark: () => session.getBookmark() };
    },
  } as unknown as D1Database;
}

/** Every method called on a Durable Object stub answers one limiter round trip later. */
function distantNamespace(namespace: DurableObjectNamespace): DurableObjectNamespace {
  const distantStub = (stub: DurableObjectStub) =>
    new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
        // Called as a method of the stub: an RPC method stub has no `apply` of its own.
        return (...args: unknown[]) =>
          remote(DISTANCES.limiterMs, async () => (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args));
      },
    });
  return new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName")
        return (...args: unknown[]) => distantStub((value as (...a: unknown[]) => DurableObjectStub).apply(target, args));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

const cache = new WeakMap<object, unknown>();

/** `env` as a far caller sees it: one object per real env, so the app parses its config once. */
export function farCaller<E extends { DB: D1Database; RATE_LIMITER: DurableObjectNamespace }>(env: E): E {
  let far = cache.get(env) as E | undefined;
  if (!far) {
    far = { ...env, DB: distantD1(env.DB), RATE_LIMITER: distantNamespace(env.RATE_LIMITER) };
    cache.set(env, far);
  }
  return far;
}
