import { OpenAPIHono } from "@hono/zod-openapi";
import type { Handler, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { ROUTE_POLICIES } from "../route-policy";

type Router = OpenAPIHono<AppEnv>;

/**
 * The route areas under /api, each built on its first request: its module, its zod schemas and
 * its handlers. A cold isolate pays only for what it answers (building every area's schemas was
 * most of a cold start: npm run bench -- startup). Longest prefix first; an area has no middleware
 * of its own (the app's runs before it).
 */
export const AREAS: readonly { prefix: string; load: () => Promise<Router> }[] = [
  { prefix: "/api/books", load: async () => (await import("./books")).books },
  { prefix: "/api/series", load: async () => (await import("./series")).series },
  { prefix: "/api/authors", load: async () => (await import("./authors")).authors },
  { prefix: "/api/metadata", load: async () => (await import("./metadata")).metadata },
  { prefix: "/api/library", load: async () => (await import("./library")).library },
  { prefix: "/api/integrations", load: async () => (await import("./integrations")).integrations },
  { prefix: "/api/downloads", load: async () => (await import("./downloads")).downloads },
  { prefix: "/api/gaps", load: async () => (await import("./gaps")).gaps },
  { prefix: "/api/requests", load: async () => (await import("./requests")).requests },
  { prefix: "/api/scheduler", load: async () => (await import("./scheduler")).scheduler },
  { prefix: "/api/system", load: async () => (await import("./system")).system },
  { prefix: "/api/admin/rate-limits", load: async () => (await import("./rate-limits")).rateLimits },
  { prefix: "/api/admin", load: async () => (await import("./admin")).admin },
  { prefix: "/api/admin/notifications", load: async () => (await import("./notifications")).notifications },
];

type Area = (typeof AREAS)[number];

/** The area a route of the policy table belongs to: the longest prefix of its path. */
export function areaOf(path: string): Area | undefined {
  return [...AREAS]
    .sort((a, b) => b.prefix.length - a.prefix.length)
    .find((area) => path === area.prefix || path.startsWith(`${area.prefix}/`));
}

/** An area as the app mounts it: its routes ("METHOD path", paths as registered) and their handlers. */
async function mounted(area: Area): Promise<Map<string, Handler[]>> {
  const routes = new OpenAPIHono<AppEnv>().route(area.prefix, await area.load()).routes;
  const handlers = new Map<string, Handler[]>();
  for (const route of routes) {
    if (route.method === "ALL") throw new Error(`${area.prefix}: an area has no middleware of its own (register it in src/app.ts)`);
    const key = `${route.method} ${route.path}`;
    handlers.set(key, [...(handlers.get(key) ?? []), route.handler as Handler]);
  }
  return handlers;
}

/**
 * Registers every route of the policy table that belongs to an area, in the table's order, as a
 * stand-in that loads the area on first use and runs the route's own handlers (its validators,
 * then the handler) on the same request: the app's middleware sees the same matched routes, and
 * the route's parameters are the stand-in's, matched on the same path. test/routes/areas.test.ts
 * holds the table's order to each area's own.
 */
export function mountLazily(app: Router): void {
  const loaded = new Map<Area, Promise<Map<string, Handler[]>>>();
  for (const key of Object.keys(ROUTE_POLICIES)) {
    const [method, path] = key.split(" ") as [string, string];
    const area = areaOf(path);
    if (!area) continue;
    app.on(method, path, async function lazyRoute(c, next) {
      let routes = loaded.get(area);
      if (!routes) {
        routes = mounted(area);
        loaded.set(area, routes);
        // A failed load is tried again by the next request.
        routes.catch(() => loaded.delete(area));
      }
      const handlers = (await routes).get(key);
      if (!handlers) throw new Error(`${key} is in the policy table but not in ${area.prefix}`);
      return run(c, handlers, next);
    } satisfies MiddlewareHandler<AppEnv>);
  }
}

/** A route's handlers in turn, as Hono's compose runs them: the outermost answer wins. */
async function run(c: Parameters<Handler>[0], handlers: Handler[], next: () => Promise<void>): Promise<Response | undefined> {
  let answer: Response | undefined;
  const step = async (i: number): Promise<void> => {
    const handler = handlers[i]!;
    const result = await handler(c, i === handlers.length - 1 ? next : () => step(i + 1));
    if (result instanceof Response) answer = result;
  };
  await step(0);
  return answer;
}

/** Every area built, for the OpenAPI document. */
export async function loadAreas(): Promise<{ prefix: string; router: Router }[]> {
  return Promise.all(AREAS.map(async (area) => ({ prefix: area.prefix, router: await area.load() })));
}
