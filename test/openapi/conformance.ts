import { type Schema, Validator } from "@cfworker/json-schema";
import { openApiDocument } from "../../src/openapi/document";
import { documentedApp } from "../../src/routes/areas";

/**
 * Every answer a test receives through the helpers (test/helpers.ts) is checked here against
 * /openapi.json: the route (method and path template) must document the status, and a JSON body
 * must match that status' schema. The document is the JSON the app serves, read by a JSON Schema
 * validator (@cfworker/json-schema: no eval, so it runs in workerd), not the zod schemas it was
 * generated from: what a caller reads is what is checked.
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

// Schemas in the document point at "#/components/schemas/X"; each response schema is checked on
// its own, with the components beside it as $defs.
const document = JSON.parse(JSON.stringify(openApiDocument(await documentedApp())).replaceAll('"#/components/schemas/', '"#/$defs/')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const defs = document.components.schemas;

const operations = Object.entries(document.paths)
  .flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      template,
      op,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
      parameters: (template.match(/\{/g) ?? []).length,
    })),
  )
  // Static segments win over parameters, as the app's routes are registered (static first).
  .sort((a, b) => a.parameters - b.parameters);

const validators = new Map<Schema, Validator>();
function validatorOf(schema: Schema): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator({ ...schema, $defs: defs } as Schema, "2020-12", false);
    validators.set(schema, validator);
  }
  return validator;
}

/** Unmatched paths (and methods a path does not have) answer 404/405 in the error shape; nothing else. */
const UNMATCHED_STATUSES = ["404", "405", "429", "503"];

/**
 * Throws, failing the test that made the request, when `response` is not what the document says
 * its route answers. Reads a clone: the caller still gets the whole response.
 */
export async function assertDocumented(request: Request, response: Response): Promise<void> {
  const method = request.method === "HEAD" ? "GET" : request.method;
  // A followed redirect answers for the URL it led to.
  const path = new URL(response.url || request.url).pathname;
  const status = String(response.status);
  const match = operations.find((o) => o.method === method && o.pattern.test(path));
  const what = `${request.method} ${path} answered ${status}`;
  if (!match) {
    if (request.method === "OPTIONS") return; // CORS preflight, answered before any route
    if (!UNMATCHED_STATUSES.includes(status)) throw new Error(`${what}, but no documented route matches it`);
    return checkBody(what, request, response, defs.Error as Schema);
  }
  const route = `${match.method} ${match.template}`;
  const documented = match.op.responses[status] ?? match.op.responses[`${status[0]}XX`];
  if (!documented) {
    throw new Error(`${what}: ${route} does not document ${status} (documents ${Object.keys(match.op.responses).join(", ")})`);
  }
  // A stream of JSON lines (src/lib/progress.ts) is checked line by line against its own schema.
  if (response.headers.get("Content-Type")?.startsWith("application/x-ndjson")) {
    const lines = documented.content?.["application/x-ndjson"]?.schema;
    if (!lines) throw new Error(`${what}: ${route} does not document application/x-ndjson`);
    const text = await response.clone().text();
    for (const line of text.split("\n").filter(Boolean)) {
      await checkBody(`${what} (${route}), a line`, request, new Response(line), lines);
    }
    return;
  }
  const schema = documented.content?.["application/json"]?.schema;
  if (schema) await checkBody(`${what} (${route})`, request, response, schema);
}

async function checkBody(what: string, request: Request, response: Response, schema: Schema): Promise<void> {
  if (request.method === "HEAD" || response.status === 204 || response.status === 304) return;
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${what} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  const result = validatorOf(schema).validate(body);
  if (!result.valid) {
    const problems = result.errors
      .filter((e) => !e.error.startsWith("A subschema") && !e.error.startsWith("Property "))
      .slice(0, 8)
      .map((e) => `  ${e.instanceLocation}: ${e.error}`);
    throw new Error(
      `${what} with a body the document does not describe:\n${(problems.length ? problems : result.errors.slice(0, 8).map((e) => `  ${e.instanceLocation}: ${e.error}`)).join("\n")}\nbody: ${text.slice(0, 600)}`,
    );
  }
}
