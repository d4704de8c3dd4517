// Writes RATE_LIMITING.md's tier and route tables from src/route-policy.ts (between the markers of
// scripts/lib/tier-table.js). Run after changing a route's tier or a default limit; npm test fails
// until the document is regenerated.
//
//   npm run docs:tiers            rewrite the tables
//   npm run docs:tiers -- --check exit 1 (and say so) when they are out of date, writing nothing
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { currentTables, tierTables, withTables } from "./lib/tier-table.js";
import { root } from "./lib/tool.js";

// The policy table is TypeScript over the app's modules: esbuild (the bundler wrangler itself uses)
// bundles just the three values into one module that Node can import.
const entry = `
export { ROUTE_POLICIES } from "./src/route-policy.ts";
export { DEFAULT_LIMITS, FAIL_CLOSED_TIERS } from "./src/rate-limit/tiers.ts";
`;
const bundle = await build({
  stdin: { contents: entry, resolveDir: root, loader: "ts" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  write: false,
  logLevel: "error",
});
const { ROUTE_POLICIES, DEFAULT_LIMITS, FAIL_CLOSED_TIERS } = await import(
  `data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`
);

const file = path.join(root, "RATE_LIMITING.md");
const document = readFileSync(file, "utf8");
const generated = tierTables({ policies: ROUTE_POLICIES, limits: DEFAULT_LIMITS, failClosed: [...FAIL_CLOSED_TIERS] });
if (process.argv.includes("--check")) {
  if (currentTables(document) === generated) process.exit(0);
  console.error("docs:tiers: RATE_LIMITING.md's tier tables differ from src/route-policy.ts; run `npm run docs:tiers`");
  process.exit(1);
}
const updated = withTables(document, generated);
if (updated !== document) writeFileSync(file, updated);
console.log(
  `docs:tiers: RATE_LIMITING.md ${updated === document ? "was already up to date" : "updated"} (${Object.keys(ROUTE_POLICIES).length} routes)`,
);
