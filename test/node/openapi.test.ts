import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/openapi/document";
import { documentedApp } from "../../src/routes/areas";

// Runs in Node: the OpenAPI validator compiles JSON Schema to code, which workerd does not allow.
describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(openApiDocument(await documentedApp()) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("would be refused if it were not (the check is not vacuous)", async () => {
    const broken = { ...openApiDocument(await documentedApp()), paths: { "/x": { get: { responses: { "200": { content: 5 } } } } } };
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });
});
