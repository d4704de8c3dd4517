import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { ok } from "../lib/response";
import { timestamp } from "../openapi/common";
import { router, success } from "../openapi/declare";
import { VERSION } from "../version";

const ABOUT = {
  name: "MAMcrawler API",
  version: VERSION,
  description: "Audiobook library automation: catalogue, download queue, gap analysis and scheduled maintenance",
  docs: "/docs",
  dashboard: "/dashboard/",
  health: "/health",
};

const about = z.strictObject({
  name: z.string(),
  version: z.string(),
  description: z.string(),
  docs: z.string().meta({ description: "The API reference" }),
  dashboard: z.string(),
  health: z.string(),
});

/** What this service is, for a caller who found it by its address. */
export const meta = router();

const tags = ["service"];

// A browser (it asks for HTML first) is sent to the dashboard; scripts and monitors get the JSON.
meta.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "What this service is",
    description:
      "Name, version and where the reference, dashboard and health are. A browser (Accept: text/html first) is redirected to the dashboard.",
    responses: {
      200: success(about, "The service's name, version and links"),
      302: { description: "To /dashboard/, for a browser", headers: { Location: { schema: { type: "string" } } } },
    },
  }),
  (c) => (prefersHtml(c.req.header("Accept")) ? c.redirect("/dashboard/", 302) : ok(c, ABOUT)),
);

meta.openapi(
  createRoute({
    method: "get",
    path: "/api/info",
    tags,
    summary: "Service information",
    description: "Name, version and links of the service, with the server's time.",
    responses: { 200: success(about.extend({ timestamp }), "The service's name, version, links and time") },
  }),
  (c) => ok(c, { ...ABOUT, timestamp: new Date().toISOString() }),
);

/** True when the Accept header names text/html before any JSON (as every browser's navigation does). */
function prefersHtml(accept = ""): boolean {
  const html = accept.indexOf("text/html");
  const json = accept.indexOf("application/json");
  return html >= 0 && (json < 0 || html < json);
}
