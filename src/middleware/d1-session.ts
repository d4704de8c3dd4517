import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import type { Database } from "../db/client";
import { AppError } from "../errors";
import type { RoutePolicy } from "../route-policy";
import { areaOf } from "../routes/areas";

export const BOOKMARK_HEADER = "X-D1-Bookmark";

/**
 * A D1 bookmark as D1 writes them: four hex fields, e.g.
 * `00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`. Checked here because the local
 * D1 accepts any string and would hand it back as the session's bookmark.
 */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/i;

/**
 * Where the request's first query may go (DEPLOYMENT.md, "Read replication"): reads start at the nearest
 * replica; writes, every admin route (login included) and anything without a route start at the
 * primary, so what an admin changes and reads back is never stale.
 */
export function sessionConstraint(method: string, path: string, policy: RoutePolicy | undefined): D1SessionConstraint {
  const read = method === "GET" || method === "HEAD";
  const adminRoute = path === "/api/admin" || path.startsWith("/api/admin/") || policy?.access === "admin";
  return read && policy && !adminRoute ? "first-unconstrained" : "first-primary";
}

/**
 * Opens the request's one D1 session (`database(c)` in src/db/client.ts hands it to every query,
 * authentication's included). A caller's `X-D1-Bookmark` (from an earlier response) makes a read
 * at least that fresh; a malformed one is 400 `invalid_input`. Every response carries the
 * session's latest bookmark, so a client that sends it back reads its own writes on any replica.
 * drizzle and the tables load with the first request to a route area that queries through them
 * (src/routes/areas.ts): a cold isolate answering /health/live or /docs never evaluates them.
 */
export function d1Session(): MiddlewareHandler<AppEnv> {
  return async function d1Session(c, next) {
    const sent = c.req.header(BOOKMARK_HEADER)?.trim();
    if (sent !== undefined && !BOOKMARK.test(sent)) {
      throw new AppError("invalid_input", "Invalid bookmark", {
        detail: `${BOOKMARK_HEADER} must be a bookmark from an earlier response's ${BOOKMARK_HEADER} header`,
      });
    }
    const constraint = sessionConstraint(c.req.method, c.req.path, c.get("policy"));
    // The primary is always at least as fresh as any bookmark, so a bookmark only moves reads.
    const start = constraint === "first-unconstrained" && sent ? sent : constraint;
    // Opened on the first query: a route that touches no table opens nothing.
    let session: D1DatabaseSession | undefined;
    let db: Database | undefined;
    const client = areaOf(c.req.path)?.database ? await import("../db/client") : undefined;
    c.set("db", () => {
      if (!client) throw new Error(`${c.req.path} is in no route area that queries (src/routes/areas.ts): it has no drizzle client`);
      return (db ??= client.sessionDatabase((session = c.env.DB.withSession(start))));
    });
    await next();
    const bookmark = session?.getBookmark();
    if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
  };
}
