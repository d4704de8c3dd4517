import type { Hono } from "hono";
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

function operation(method: string, path: string, policy: RoutePolicy, parts: ValidatedPart[]): Operation {
  const body = parts.find((part) => part.target === "json");
  const validated = parts.length > 0;
  const area = path.split("/")[path.startsWith("/api/") ? 2 : 1] || "service";
  const responses: Record<string, unknown> = {
    "2XX": {
      description: method === "post" ? "Success (201 when a resource is created)" : "Success",
      content: {
        "application/json": { schema: path.startsWith("/health") ? { type: "object" } : { $ref: "#/components/schemas/Success" } },
      },
    },
    ...(policy.access === "public"
      ? {}
      : { "401": errorResponse("Missing or invalid credentials"), "403": errorResponse(policy.rule ?? `Needs the ${policy.access} role`) }),
    ...(path.includes(":") ? { "404": errorResponse("Not found") } : {}),
    ...(body
      ? {
          "400": errorResponse("Malformed JSON"),
          "413": errorResponse("Body too large"),
          "415": errorResponse("Body is not application/json"),
        }
      : {}),
    ...(validated ? { "422": errorResponse("Validation failed: see errors[]") } : {}),
    ...(method !== "get" ? { "409": errorResponse("Conflict or duplicate") } : {}),
    "429": errorResponse(`Rate limit of the ${policy.tier} tier exceeded; see Retry-After`),
    "500": errorResponse("Unexpected error"),
    "503": errorResponse("Database, configuration or rate limiter unavailable"),
  };
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
    tags: [area],
    summary: `${method.toUpperCase()} ${path}`,
    parameters: parameters(path, parts),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(body.schema) } },
            description: `At most ${(policy.tier === "upload" ? MAX_BODY_BYTES.upload : MAX_BODY_BYTES.default) / 1024 / 1024} MB`,
          },
        }
      : {}),
    responses,
    security: policy.access === "public" ? [] : [{ ApiKey: [] }, { Basic: [] }, { Bearer: [] }],
    "x-rate-limit-tier": policy.tier,
    "x-rate-limit": DEFAULT_LIMITS[policy.tier],
    "x-min-role": policy.access,
    ...(policy.rule ? { "x-access": policy.rule } : {}),
  };
}

/**
 * The OpenAPI 3.1 document of the app, built from what the app really runs: its registered routes,
 * the zod schemas their `validate` middleware checks, and the route policy table. Nothing about a
 * route is written twice.
 */
export function openApiDocument(app: Hono<AppEnv>) {
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
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = operation(method.toLowerCase(), path, policy, parts);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "MAMcrawler API",
      version: VERSION,
      description:
        "Audiobook library automation. Every route has a rate-limit tier (x-rate-limit-tier; limits per client, " +
        "changeable with RATE_LIMITS) and a least role (x-min-role). Errors share one shape (components.schemas.Error).",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema), Success: jsonSchema(successSchema) },
      securitySchemes: {
        ApiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The operator key (API_KEY) or a named key (mam_…)" },
        Basic: { type: "http", scheme: "basic", description: "User admin, password: an API key" },
        Bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "From POST /api/admin/login; 30 minutes" },
      },
    },
    "x-error-codes": ERROR_STATUS,
  };
}
