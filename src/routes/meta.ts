import { Hono } from "hono";
import type { AppEnv } from "../context";
import { ok } from "../lib/response";
import { VERSION } from "../version";

const ABOUT = {
  name: "MAMcrawler API",
  version: VERSION,
  description: "Audiobook library automation: catalogue, download queue, gap analysis and scheduled maintenance",
  docs: "/docs",
  health: "/health",
};

/** What this service is, for a caller who found it by its address. */
export const meta = new Hono<AppEnv>();

meta.get("/", (c) => ok(c, ABOUT));
meta.get("/api/info", (c) => ok(c, { ...ABOUT, timestamp: new Date().toISOString() }));
