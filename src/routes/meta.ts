import { Hono } from "hono";
import type { AppEnv } from "../context";
import { ok } from "../lib/response";
import { VERSION } from "../version";

const ABOUT = {
  name: "MAMcrawler API",
  version: VERSION,
  description: "Audiobook library automation: catalogue, download queue, gap analysis and scheduled maintenance",
  docs: "/docs",
  dashboard: "/dashboard/",
  health: "/health",
};

/** What this service is, for a caller who found it by its address. */
export const meta = new Hono<AppEnv>();

// A browser (it asks for HTML first) is sent to the dashboard; scripts and monitors get the JSON.
meta.get("/", (c) => (prefersHtml(c.req.header("Accept")) ? c.redirect("/dashboard/", 302) : ok(c, ABOUT)));
meta.get("/api/info", (c) => ok(c, { ...ABOUT, timestamp: new Date().toISOString() }));

/** True when the Accept header names text/html before any JSON (as every browser's navigation does). */
function prefersHtml(accept = ""): boolean {
  const html = accept.indexOf("text/html");
  const json = accept.indexOf("application/json");
  return html >= 0 && (json < 0 || html < json);
}
