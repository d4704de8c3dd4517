// `npm run client:generate`: the typed client's files, from the document this Worker serves. It
// starts the Worker locally (wrangler's unstable_startWorker: workerd with local bindings; no
// account, no network), asks it for GET /openapi.json, and writes
//   client/openapi.json  that document (test/client/client.test.ts fails when the app's differs);
//   client/schema.ts     its TypeScript types (openapi-typescript), which client/index.ts hands to
//                        openapi-fetch.
// Run it after changing a route, and commit client/.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { clientTypes } from "openapi-typescript-ts5";
import { unstable_startWorker } from "wrangler";
import { root } from "./lib/tool.js";

// wrangler.toml's [build] command runs in the current directory.
process.chdir(root);
const state = mkdtempSync(path.join(os.tmpdir(), "client-generate-"));
let document;
const worker = await unstable_startWorker({
  config: path.join(root, "wrangler.toml"),
  dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: state, watch: false },
});
try {
  await worker.ready;
  const response = await worker.fetch("http://localhost/openapi.json");
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
  document = await response.json();
} finally {
  await worker.dispose();
  rmSync(state, { recursive: true, force: true });
}

const types = await clientTypes(document);
writeFileSync(path.join(root, "client", "openapi.json"), `${JSON.stringify(document, null, 2)}\n`);
writeFileSync(path.join(root, "client", "schema.ts"), types);
const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
console.log(`client:generate: ${operations} operations; wrote client/openapi.json and client/schema.ts`);
