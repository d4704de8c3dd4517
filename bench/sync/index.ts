import { parseConfig, requireService } from "../../src/config";
import { sessionDatabase } from "../../src/db/client";
import { Audiobookshelf } from "../../src/integrations/audiobookshelf";
import { syncLibrary } from "../../src/services/library-sync";

/** What reached D1: statements (each one SQL statement run, alone or in a batch) and round trips (one call each). */
export interface Counts {
  statements: number;
  round_trips: number;
}

/** The session, counting each statement when it runs and each call to D1. */
export function counting(session: D1DatabaseSession, counts: Counts): D1DatabaseSession {
  type Counted = D1PreparedStatement & { inner: D1PreparedStatement };
  const wrap = (inner: D1PreparedStatement): Counted => {
    const alone =
      <T>(call: () => Promise<T>) =>
      () => {
        counts.statements++;
        counts.round_trips++;
        return call();
      };
    return {
      inner,
      bind: (...values: unknown[]) => wrap(inner.bind(...values)),
      first: (column?: string) => alone(() => (column === undefined ? inner.first() : inner.first(column)))(),
      run: () => alone(() => inner.run())(),
      all: () => alone(() => inner.all())(),
      raw: (options?: { columnNames?: boolean }) => alone(() => inner.raw(options as { columnNames: true }))(),
    } as unknown as Counted;
  };
  return {
    prepare: (query: string) => wrap(session.prepare(query)),
    batch: (statements: Counted[]) => {
      counts.statements += statements.length;
      counts.round_trips++;
      return session.batch(statements.map((s) => s.inner));
    },
    getBookmark: () => session.getBookmark(),
  } as unknown as D1DatabaseSession;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/sync") return new Response("ready");
    const counts: Counts = { statements: 0, round_trips: 0 };
    const db = sessionDatabase(counting(env.DB.withSession("first-primary"), counts));
    const config = parseConfig(env);
    if (config.problems.length > 0) return Response.json({ problems: config.problems }, { status: 500 });
    const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
    const started = Date.now();
    const result = await syncLibrary(db, abs, "bench");
    return Response.json({ ...counts, ms: Date.now() - started, result });
  },
};
