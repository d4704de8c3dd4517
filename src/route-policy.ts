import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import type { Tier } from "./rate-limit/tiers";

/**
 * The least role that may call a route; `public` needs no credentials. Roles rank
 * viewer < operator < admin (see `roleOf` in middleware/auth.ts).
 */
export type Access = "public" | Role;
export type Role = "viewer" | "operator" | "admin";

export interface RoutePolicy {
  tier: Tier;
  access: Access;
  /** What the handler checks beyond `access` (e.g. "self"), as the OpenAPI document states it. */
  rule?: string;
  /**
   * A query parameter that, when given a non-blank value, makes the route do another route's work:
   * the request is counted in that work's tier instead (`GET /api/books?search=` is a search).
   */
  queryTier?: { param: string; tier: Tier };
}

/**
 * The one table of every route: its rate-limit tier and who may call it (RATE_LIMITING.md).
 * Keys are "METHOD path" as registered in the app; HEAD follows GET. A test walks the app's
 * routes and fails when one is missing here, or when a row here has no route.
 */
export const ROUTE_POLICIES: Record<string, RoutePolicy> = {
  "GET /health": { tier: "health", access: "public" },
  "GET /health/live": { tier: "health", access: "public" },
  "GET /health/ready": { tier: "health", access: "public" },
  // What a browser loads to read (the root, which sends it to the dashboard; the API reference and
  // its document): constant answers, with a budget of their own, so opening them never spends the
  // public tier's logins and API calls, nor they theirs.
  "GET /": { tier: "docs", access: "public" },
  "GET /api/info": { tier: "public", access: "public" },
  "GET /openapi.json": { tier: "docs", access: "public" },
  "GET /docs": { tier: "docs", access: "public" },
  "GET /api/system/health": { tier: "health", access: "viewer" },
  // books: reads for viewers, writes for operators; search, metadata-source and import have their own tiers
  "GET /api/books": { tier: "authenticated", access: "viewer", queryTier: { param: "search", tier: "search" } },
  "GET /api/books/search": { tier: "search", access: "viewer" },
  "GET /api/books/incomplete-metadata": { tier: "authenticated", access: "viewer" },
  "GET /api/books/series/:name": { tier: "authenticated", access: "viewer" },
  "GET /api/books/:id": { tier: "authenticated", access: "viewer" },
  "GET /api/books/:id/metadata-history": { tier: "authenticated", access: "viewer" },
  "POST /api/books/import": { tier: "upload", access: "operator" },
  "POST /api/books": { tier: "authenticated", access: "operator" },
  "PUT /api/books/:id": { tier: "authenticated", access: "operator" },
  "PUT /api/books/:id/metadata-source": { tier: "metadata", access: "operator" },
  "DELETE /api/books/:id": { tier: "authenticated", access: "operator" },
  // outside services: live status for viewers; the Audiobookshelf sync as an import
  "GET /api/integrations": { tier: "authenticated", access: "viewer" },
  "POST /api/library/sync": { tier: "upload", access: "operator" },
  // metadata: correction history and quality
  "GET /api/metadata/history/:book_id": { tier: "authenticated", access: "viewer" },
  "GET /api/metadata/by-source": { tier: "authenticated", access: "viewer" },
  "GET /api/metadata/incomplete": { tier: "authenticated", access: "viewer" },
  "GET /api/metadata/status": { tier: "metadata", access: "viewer" },
  "DELETE /api/metadata/cleanup-old": { tier: "authenticated", access: "operator" },
  "POST /api/metadata/correct-book": { tier: "metadata", access: "operator" },
  "POST /api/metadata/correct-all": { tier: "metadata", access: "operator" },
  "POST /api/metadata/correct-recent": { tier: "metadata", access: "operator" },
  // series and authors: reads for viewers, writes for operators
  "GET /api/series": { tier: "authenticated", access: "viewer" },
  "GET /api/series/completion-summary": { tier: "authenticated", access: "viewer" },
  "GET /api/series/incomplete": { tier: "authenticated", access: "viewer" },
  "GET /api/series/:id": { tier: "authenticated", access: "viewer" },
  "GET /api/series/:id/completion": { tier: "authenticated", access: "viewer" },
  "POST /api/series": { tier: "authenticated", access: "operator" },
  "PUT /api/series/:id": { tier: "authenticated", access: "operator" },
  "DELETE /api/series/:id": { tier: "authenticated", access: "operator" },
  "PUT /api/series/:id/recalculate-completion": { tier: "authenticated", access: "operator" },
  "GET /api/authors": { tier: "authenticated", access: "viewer" },
  "GET /api/authors/favorites": { tier: "authenticated", access: "viewer" },
  "GET /api/authors/completion-summary": { tier: "authenticated", access: "viewer" },
  "GET /api/authors/:id": { tier: "authenticated", access: "viewer" },
  "GET /api/authors/:id/books": { tier: "authenticated", access: "viewer" },
  "GET /api/authors/:id/completion": { tier: "authenticated", access: "viewer" },
  "POST /api/authors": { tier: "authenticated", access: "operator" },
  "PUT /api/authors/:id": { tier: "authenticated", access: "operator" },
  "DELETE /api/authors/:id": { tier: "authenticated", access: "operator" },
  "PUT /api/authors/:id/recalculate-completion": { tier: "authenticated", access: "operator" },
  // downloads: reads for viewers; queue changes for operators, on the download tier (20/hour)
  "GET /api/downloads": { tier: "authenticated", access: "viewer" },
  "GET /api/downloads/pending": { tier: "authenticated", access: "viewer" },
  "GET /api/downloads/failed": { tier: "authenticated", access: "viewer" },
  "GET /api/downloads/retry-due": { tier: "authenticated", access: "viewer" },
  "GET /api/downloads/:id": { tier: "authenticated", access: "viewer" },
  "DELETE /api/downloads/:id": { tier: "authenticated", access: "operator" },
  "POST /api/downloads": { tier: "download", access: "operator" },
  "PUT /api/downloads/:id/status": { tier: "download", access: "operator" },
  "PUT /api/downloads/:id/mark-complete": { tier: "download", access: "operator" },
  "PUT /api/downloads/:id/mark-failed": { tier: "download", access: "operator" },
  "PUT /api/downloads/:id/retry": { tier: "download", access: "operator" },
  // gaps: reads for viewers, analysis, titles set by hand and reset for operators
  "POST /api/gaps/analyze": { tier: "authenticated", access: "operator" },
  "GET /api/gaps/missing": { tier: "authenticated", access: "viewer" },
  "PUT /api/gaps/missing/:id": { tier: "authenticated", access: "operator" },
  "GET /api/gaps/report": { tier: "authenticated", access: "viewer" },
  "GET /api/gaps/history": { tier: "authenticated", access: "viewer" },
  "DELETE /api/gaps/reset-state": { tier: "authenticated", access: "operator" },
  // acquisition queues downloads: the download tier, for operators
  "POST /api/gaps/acquire": { tier: "download", access: "operator" },
  "POST /api/gaps/analyze-and-acquire": { tier: "download", access: "operator" },
  // requests: anyone signed in searches the catalogue and asks (their own; operators see all); operators decide
  "GET /api/requests/search": { tier: "search", access: "viewer" },
  "GET /api/requests": { tier: "authenticated", access: "viewer", rule: "A viewer sees their own requests; operators and admins all" },
  "GET /api/requests/:id": { tier: "authenticated", access: "viewer", rule: "The requester themself, or an operator or admin" },
  "POST /api/requests": { tier: "authenticated", access: "viewer" },
  "POST /api/requests/:id/approve": { tier: "authenticated", access: "operator" },
  "POST /api/requests/:id/deny": { tier: "authenticated", access: "operator" },
  // scheduler: the schedule and runs for viewers; running, pausing and resuming for admins
  "GET /api/scheduler/status": { tier: "authenticated", access: "viewer" },
  "GET /api/scheduler/tasks": { tier: "authenticated", access: "viewer" },
  "GET /api/scheduler/task/:name": { tier: "authenticated", access: "viewer" },
  "GET /api/scheduler/execution-history/:name": { tier: "authenticated", access: "viewer" },
  "GET /api/scheduler/upcoming-tasks": { tier: "authenticated", access: "viewer" },
  "GET /api/scheduler/configuration": { tier: "authenticated", access: "viewer" },
  "POST /api/scheduler/trigger-all": { tier: "admin", access: "admin" },
  "POST /api/scheduler/trigger/:name": { tier: "admin", access: "admin" },
  "PUT /api/scheduler/task/:name/pause": { tier: "admin", access: "admin" },
  "PUT /api/scheduler/task/:name/resume": { tier: "admin", access: "admin" },
  "PUT /api/scheduler/task/:name/schedule": { tier: "admin", access: "admin" },
  // system: figures for viewers
  "GET /api/system/stats": { tier: "authenticated", access: "viewer" },
  "GET /api/system/library-status": { tier: "authenticated", access: "viewer" },
  "GET /api/system/download-stats": { tier: "authenticated", access: "viewer" },
  "GET /api/system/storage": { tier: "authenticated", access: "viewer" },
  "GET /api/system/qbittorrent/monitor-status": { tier: "authenticated", access: "viewer" },
  "GET /api/system/configuration": { tier: "authenticated", access: "viewer" },
  // admin: login is public; me and logout are for any caller; user look-up and password change
  // check moderator/self in the route; everything else is for admins.
  "POST /api/admin/login": { tier: "public", access: "public" },
  "GET /api/admin/me": { tier: "authenticated", access: "viewer" },
  "POST /api/admin/logout": { tier: "authenticated", access: "viewer" },
  "POST /api/admin/refresh": { tier: "authenticated", access: "viewer" },
  "GET /api/admin/users": { tier: "admin", access: "admin" },
  "POST /api/admin/users": { tier: "admin", access: "admin" },
  "GET /api/admin/users/:id": {
    tier: "admin",
    access: "operator",
    rule: "An admin, or a user with the moderator role (operator API keys are refused)",
  },
  "PUT /api/admin/users/:id": { tier: "admin", access: "admin" },
  "DELETE /api/admin/users/:id": { tier: "admin", access: "admin" },
  "POST /api/admin/users/:id/password": {
    tier: "admin",
    access: "viewer",
    rule: "The user themself (sending current_password), or an admin",
  },
  "DELETE /api/admin/users/:id/login-lock": { tier: "admin", access: "admin" },
  "GET /api/admin/audit-logs": { tier: "admin", access: "admin" },
  "GET /api/admin/api-keys": { tier: "admin", access: "admin" },
  "POST /api/admin/api-keys": { tier: "admin", access: "admin" },
  "DELETE /api/admin/api-keys/:id": { tier: "admin", access: "admin" },
  "GET /api/admin/rate-limits/:tier/:client": { tier: "admin", access: "admin" },
  "DELETE /api/admin/rate-limits/:tier/:client": { tier: "admin", access: "admin" },
  // notifications: endpoints, their delivery log and a test send, for admins
  "GET /api/admin/notifications/endpoints": { tier: "admin", access: "admin" },
  "POST /api/admin/notifications/endpoints": { tier: "admin", access: "admin" },
  "PUT /api/admin/notifications/endpoints/:id": { tier: "admin", access: "admin" },
  "DELETE /api/admin/notifications/endpoints/:id": { tier: "admin", access: "admin" },
  "POST /api/admin/notifications/endpoints/:id/test": { tier: "admin", access: "admin" },
  "GET /api/admin/notifications/deliveries": { tier: "admin", access: "admin" },
};

/**
 * The policy of the route that will answer this request: the first matched handler that is not
 * middleware (middleware is registered for ALL methods). Undefined when no route matches.
 */
export function policyOf(c: Context): RoutePolicy | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL");
  if (!route) return undefined;
  const policy = ROUTE_POLICIES[`${route.method} ${route.path}`];
  // A route without a row would run unauthenticated and unlimited: refuse it instead.
  if (!policy) throw new AppError("internal_error", "Route has no policy", { context: { route: `${route.method} ${route.path}` } });
  return policy;
}

/** The policy this request is counted under: its route's, in the tier its query asks for (`queryTier`). */
export function requestPolicy(c: Context, policy: RoutePolicy | undefined): RoutePolicy | undefined {
  const byQuery = policy?.queryTier;
  if (!byQuery || !c.req.query(byQuery.param)?.trim()) return policy;
  return { ...policy, tier: byQuery.tier };
}

/** Finds the matched route's policy once, for the middleware after it. */
export function routePolicy(): MiddlewareHandler<AppEnv> {
  return async function routePolicy(c, next) {
    c.set("policy", requestPolicy(c, policyOf(c)));
    await next();
  };
}
