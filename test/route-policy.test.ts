import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { ROUTE_POLICIES } from "../src/route-policy";

const registered = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))];

describe("the route policy table", () => {
  it("gives every registered route a tier and an access level", () => {
    const missing = registered.filter((route) => !ROUTE_POLICIES[route]);
    expect(missing).toEqual([]);
    expect(registered.length).toBeGreaterThan(0);
  });

  it("has no row for a route that does not exist", () => {
    const stale = Object.keys(ROUTE_POLICIES).filter((route) => !registered.includes(route));
    expect(stale).toEqual([]);
  });
});
