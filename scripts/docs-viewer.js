// Puts the API reference's viewer (Swagger UI, the pinned `swagger-ui-dist` devDependency) under
// public/docs/vendor/, where Workers static assets serve it to /docs (src/routes/docs.ts). The files
// come from node_modules rather than from git: a new version is one line in package.json, not 2 MB
// of minified code in the history. wrangler.toml's [build] runs this before `wrangler dev` and
// `wrangler deploy`, and `npm test` runs it first too. Copies only what changed, so it is cheap.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { root } from "./lib/tool.js";

const source = path.join(root, "node_modules", "swagger-ui-dist");
const target = path.join(root, "public", "docs", "vendor");
// The bundle (viewer and its React), its stylesheet, and the licence that must travel with them.
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

if (!existsSync(path.join(source, "package.json"))) {
  console.error("docs-viewer: node_modules/swagger-ui-dist is missing; run `npm install` first");
  process.exit(1);
}
mkdirSync(target, { recursive: true });
let copied = 0;
for (const name of FILES) {
  const from = path.join(source, name);
  const to = path.join(target, name);
  if (existsSync(to) && statSync(to).size === statSync(from).size && readFileSync(to).equals(readFileSync(from))) continue;
  copyFileSync(from, to);
  copied++;
}
const { version } = JSON.parse(readFileSync(path.join(source, "package.json"), "utf8"));
if (copied > 0) console.log(`docs-viewer: copied Swagger UI ${version} into public/docs/vendor/`);
