import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("GET /", () => {
  it("sends a browser to the dashboard", async () => {
    const accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; // Chromium's navigation
    const res = await call("/", { headers: { Accept: accept }, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/dashboard/");
  });

  it("answers scripts and monitors with what the service is, in JSON", async () => {
    for (const accept of [undefined, "*/*", "application/json", "application/json, text/html"]) {
      const res = await call("/", accept ? { headers: { Accept: accept } } : {});
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { name: string; dashboard: string; docs: string } };
      expect(body.data).toMatchObject({ name: "MAMcrawler API", dashboard: "/dashboard/", docs: "/docs" });
    }
  });
});
