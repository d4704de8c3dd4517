import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../context";
import { ERROR_STATUS } from "../errors";
import { VALIDATES, type ValidatedPart } from "../lib/validate";
import { MAX_BODY_BYTES } from "../middleware/body";
import { DEFAULT_LIMITS } from "../rate-limit/tiers";
import { ROUTE_POLICIES, type RoutePolicy } from "../route-policy";
import { VERSION } from "../version";
import { errorSchema, successSchema } from "./schemas";

type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), describing what a caller sends. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** "/api/books/:id" → "/api/books/{id}". */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{[^}]*\})?/g, "{$1}");
}

const IN = { param: "path", query: "query", header: "header", cookie: "cookie" } as const;

function parameters(path: string, parts: ValidatedPart[]) {
  const result: Record<string, unknown>[] = [];
  for (const part of parts) {
    if (!(part.target in IN)) continue;
    const schema = jsonSchema(part.schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const location = IN[part.target as keyof typeof IN];
      result.push({ name, in: location, required: location === "path" || (schema.required ?? []).includes(name), schema: property });
    }
  }
  // Path parameters no schema describes are still part of the path.
  for (const [, name] of path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!result.some((p) => p.in === "path" && p.name === name))
      result.push({ name, in: "path", required: true, schema: { type: "string" } });
  }
  return result;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

function operation(method: string, path: string, parts: ValidatedPart[]): Operation {
  const body = parts.find((part) => part.target === "json");
  const area = path.split("/")[path.startsWith("/api/") ? 2 : 1] || "service";
  const responses: Record<string, unknown> = {
    "2XX": {
      description: method === "post" ? "Success (201 when a resource is created)" : "Success",
      content: {
        "application/json": { schema: path.startsWith("/health") ? { type: "object" } : { $ref: "#/components/schemas/Success" } },
      },
    },
    ...(path.includes(":") ? { "404": errorResponse("Not found") } : {}),
    ...(method !== "get" ? { "409": errorResponse("Conflict or duplicate") } : {}),
  };
  return {
    tags: [area],
    summary: `${method.toUpperCase()} ${path}`,
    parameters: parameters(path, parts),
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(body.schema) } } } } : {}),
    responses,
    "x-undeclared": true,
  };
}

/** Errors every route shares, decided by its policy and its input (src/route-policy.ts, src/middleware/*). */
function sharedErrors(op: Operation, policy: RoutePolicy): Record<string, unknown> {
  const validates = (op.parameters as unknown[] | undefined)?.length || op.requestBody;
  return {
    ...(policy.access === "public" ? {} : { "401": errorResponse("Missing, unknown or expired credentials") }),
    ...(policy.access === "public" || (policy.access === "viewer" && !policy.rule)
      ? {}
      : { "403": errorResponse(policy.rule ?? `The credential's role is below ${policy.access}`) }),
    ...(op.requestBody
      ? {
          "400": errorResponse("The body is not valid JSON"),
          "413": errorResponse(
            `The body is larger than ${(policy.tier === "upload" ? MAX_BODY_BYTES.upload : MAX_BODY_BYTES.default) / 1024 / 1024} MB`,
          ),
          "415": errorResponse("The body is not application/json"),
        }
      : {}),
    ...(validates ? { "422": errorResponse("Validation failed: `errors` lists every problem") } : {}),
    "429": errorResponse(`Over the ${policy.tier} tier's limit for this client; see Retry-After`),
    "500": errorResponse("An unexpected failure (details are logged, never answered in production)"),
    "503": errorResponse("The database, the configuration or the rate limiter is unavailable"),
  };
}

/** A route's tier, least role and security requirement, from the one policy table. */
function withPolicy(op: Operation, method: string, path: string, policy: RoutePolicy): Operation {
  const responses = { ...sharedErrors(op, policy), ...(op.responses as Record<string, unknown>) };
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
    ...op,
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    security: policy.access === "public" ? [] : [{ ApiKey: [] }, { Basic: [] }, { Bearer: [] }],
    "x-rate-limit-tier": policy.tier,
    "x-rate-limit": DEFAULT_LIMITS[policy.tier],
    "x-required-role": policy.access,
    ...(policy.rule ? { "x-access": policy.rule } : {}),
  };
}

const INFO = {
  title: "MAMcrawler API",
  version: VERSION,
  description:
    "Audiobook library automation. Every route has a rate-limit tier (x-rate-limit-tier; limits per client, " +
    "changeable with RATE_LIMITS) and a least role (x-required-role). Errors share one shape (components.schemas.Error).",
};

/**
 * The OpenAPI 3.1 document of the app, generated from the routes' declarations (src/openapi/declare.ts)
 * and the route policy table. Routes not yet declared that way are described from their
 * `validate` middleware, with an untyped success (`x-undeclared`).
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  const generated = app.getOpenAPI31Document({ openapi: "3.1.0", info: INFO, servers: [{ url: "/" }] });
  const declared = (generated.paths ?? {}) as Record<string, Record<string, Operation>>;
  const partsByRoute = new Map<string, ValidatedPart[]>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    const parts = partsByRoute.get(key) ?? [];
    const part = (route.handler as { [VALIDATES]?: ValidatedPart })[VALIDATES];
    if (part) parts.push(part);
    partsByRoute.set(key, parts);
  }
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [key, parts] of partsByRoute) {
    const policy = ROUTE_POLICIES[key];
    if (!policy) continue; // the route-policy test fails first
    const [method, path] = key.split(" ") as [string, string];
    const lower = method.toLowerCase();
    const op = declared[openApiPath(path)]?.[lower] ?? operation(lower, path, parts);
    (paths[openApiPath(path)] ??= {})[lower] = withPolicy(op, lower, path, policy);
  }
  return {
    ...generated,
    paths,
    components: {
      ...generated.components,
      schemas: { ...generated.components?.schemas, Error: jsonSchema(errorSchema), Success: jsonSchema(successSchema) },
      securitySchemes: {
        ApiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The operator key (API_KEY) or a named key (mam_…)" },
        Basic: { type: "http", scheme: "basic", description: "User admin, password: an API key" },
        Bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "From POST /api/admin/login; 30 minutes" },
      },
    },
    "x-error-codes": ERROR_STATUS,
  };
}
