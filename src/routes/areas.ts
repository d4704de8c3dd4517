import type { OpenAPIHono } from "@hono/zod-openapi";
import { type Handler, Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { ROUTE_POLICIES } from "../route-policy";

type Router = OpenAPIHono<AppEnv>;

interface Area {
  /** Where its router is mounted; its routes are the policy table's under it. */
  prefix: string;
  /** Mounted at the root: its routes are these paths, not every path under the prefix. */
  paths?: readonly string[];
  /** Its routes query through drizzle (src/middleware/d1-session.ts loads it for them). */
  database: boolean;
  load: () => Promise<Router>;
}

/**
 * The route areas, each built on its first request: its module, its zod schemas and its
 * handlers. A cold isolate pays only for what it answers (building every area's schemas was most
 * of a cold start: npm run bench -- startup), and evaluates no route schema at startup. In the
 * OpenAPI document's order; an area has no middleware of its own (the app's runs before it).
 */
export const AREAS: readonly Area[] = [
  { prefix: "/health", database: false, load: async () => (await import("./health")).health },
  { prefix: "/", paths: ["/", "/api/info"], database: false, load: async () => (await import("./meta")).meta },
  {
    prefix: "/",
    paths: ["/openapi.json", "/docs"],
    database: false,
    load: async () => (await import("./docs")).docs(documentedApp),
  },
  { prefix: "/api/books", database: true, load: async () => (await import("./books")).books },
  { prefix: "/api/series", database: true, load: async () => (await import("./series")).series },
  { prefix: "/api/authors", database: true, load: async () => (await import("./authors")).authors },
  { prefix: "/api/metadata", database: true, load: async () => (await import("./metadata")).metadata },
  { prefix: "/api/library", database: true, load: async () => (await import("./library")).library },
  { prefix: "/api/integrations", database: true, load: async () => (await import("./integrations")).integrations },
  { prefix: "/api/downloads", database: true, load: async () => (await import("./downloads")).downloads },
  { prefix: "/api/gaps", database: true, load: async () => (await import("./gaps")).gaps },
  { prefix: "/api/requests", database: true, load: async () => (await import("./requests")).requests },
  { prefix: "/api/scheduler", database: true, load: async () => (await import("./scheduler")).scheduler },
  { prefix: "/api/system", database: true, load: async () => (await import("./system")).system },
  { prefix: "/api/admin/rate-limits", database: true, load: async () => (await import("./rate-limits")).rateLimits },
  { prefix: "/api/admin", database: true, load: async () => (await import("./admin")).admin },
  { prefix: "/api/admin/notifications", database: true, load: async () => (await import("./notifications")).notifications },
];

const LONGEST_FIRST = [...AREAS].sort((a, b) => b.prefix.length - a.prefix.length);

/** The area a route of the policy table belongs to: the one listing its path, else the longest prefix of it. */
export function areaOf(path: string): Area | undefined {
  return LONGEST_FIRST.find((area) =>
    area.paths ? area.paths.includes(path) : path === area.prefix || path.startsWith(`${area.prefix}/`),
  );
}

/** An area as the app mounts it: its routes ("METHOD path", paths as registered) and their handlers. */
async function mounted(area: Area): Promise<Map<string, Handler[]>> {
  const routes = new Hono<AppEnv>().route(area.prefix, await area.load()).routes;
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
export function mountLazily(app: Hono<AppEnv>): void {
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

/**
 * The app with every area built, as the OpenAPI document describes it (GET /openapi.json builds it
 * once): the same routes as the app, in the same order.
 */
export async function documentedApp(): Promise<Router> {
  const { OpenAPIHono } = await import("@hono/zod-openapi");
  const documented = new OpenAPIHono<AppEnv>({ strict: false });
  for (const area of AREAS) documented.route(area.prefix, await area.load());
  return documented;
}
