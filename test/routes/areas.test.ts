import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { AppEnv } from "../../src/context";
import { AREAS, areaOf } from "../../src/routes/areas";
import { call } from "../helpers";

const routesOf = (router: Hono<AppEnv>) => [
  ...new Set(router.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`)),
];

describe("route areas built on first use", () => {
  it.each(AREAS.map((area) => [area.prefix, area] as const))(
    "%s: the app's stand-ins are the area's routes, in its order",
    async (_, area) => {
      const own = routesOf(new OpenAPIHono<AppEnv>().route(area.prefix, await area.load()));
      const standIns = routesOf(app).filter((key) => areaOf(key.split(" ")[1]!) === area);
      // The first route registered of those matching a path answers it: the order decides, per method.
      for (const method of ["GET", "POST", "PUT", "DELETE"]) {
        expect(standIns.filter((key) => key.startsWith(`${method} `))).toEqual(own.filter((key) => key.startsWith(`${method} `)));
      }
    },
  );

  it("a static path answers before a parameter at its place, as when the area was mounted whole", async () => {
    // /api/books/search is also /api/books/:id with id "search".
    const response = await call("/api/books/search?query=zz", { auth: true });
    expect(response.status).not.toBe(422);
    const body = (await response.json()) as { data?: unknown };
    expect(body.data).toMatchObject({ total_results: expect.any(Number) });
  });
});
