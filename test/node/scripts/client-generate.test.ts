import { readFileSync } from "node:fs";
import path from "node:path";
import { clientTypes } from "openapi-typescript-ts5";
import { describe, expect, it } from "vitest";

// `npm run client:generate` writes client/openapi.json (the document the app serves) and
// client/schema.ts (its types). test/client/client.test.ts holds the first to the app; this holds the
// second to the first, so the whole chain is checked: routes → document → committed types.
const root = path.resolve(import.meta.dirname, "../../..");

describe("the committed client's types (client/schema.ts)", () => {
  it("are what openapi-typescript makes of client/openapi.json", async () => {
    const document = JSON.parse(readFileSync(path.join(root, "client/openapi.json"), "utf8"));
    const committed = readFileSync(path.join(root, "client/schema.ts"), "utf8");
    expect(await clientTypes(document), "client/ is out of date: run `npm run client:generate` and commit client/").toBe(committed);
  });
});
