// Prepares a fresh clone for `wrangler dev`: .dev.vars from the example (so the development key
// works at once) and the local D1 migrated. Safe to run every time: each step is a no-op when done.
import { copyFileSync, existsSync } from "node:fs";
import { runTool } from "./lib/tool.js";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("dev-setup: created .dev.vars from .dev.vars.example (development keys only)");
}

if (!process.argv.includes("--vars-only")) {
  // Applies only the migrations the local database lacks; prints "No migrations to apply" otherwise.
  const result = runTool("wrangler", ["d1", "migrations", "apply", "DB", "--local"], { stdio: "inherit", env: { CI: "true" } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
