import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../context";
import { ERROR_STATUS } from "../errors";
import { MAX_BODY_BYTES } from "../middleware/body";
import { DEFAULT_LIMITS } from "../rate-limit/tiers";
import { ROUTE_POLICIES, type RoutePolicy } from "../route-policy";
import { VERSION } from "../version";
import { errorSchema } from "./schemas";

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

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/** Errors every route shares, decided by its policy and its input (src/route-policy.ts, src/middleware/*). */
function sharedErrors(op: Operation, policy: RoutePolicy): Record<string, unknown> {
  const validates = (op.parameters as unknown[] | undefined)?.length || op.requestBody;
  return {
    ...(policy.access === "public" ? {} : { "401": errorResponse("Missing, unknown or expired credentials") }),
    ...(policy.access === "public"
      ? {}
      : {
          "403": errorResponse(`${policy.rule ?? `The credential's role is below ${policy.access}`}; or the user's account is disabled`),
        }),
    "400": errorResponse(op.requestBody ? "The body is not valid JSON, or X-D1-Bookmark is malformed" : "X-D1-Bookmark is malformed"),
    // Any request's body is checked, whether the route reads one or not (src/middleware/body.ts).
    "413": errorResponse(
      `The body is larger than ${(policy.tier === "upload" ? MAX_BODY_BYTES.upload : MAX_BODY_BYTES.default) / 1024 / 1024} MB`,
    ),
    "415": errorResponse("A body was sent that is not application/json"),
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
    ...(policy.queryTier
      ? {
          "x-rate-limit-tier-by-query": {
            parameter: policy.queryTier.param,
            tier: policy.queryTier.tier,
            limit: DEFAULT_LIMITS[policy.queryTier.tier],
          },
        }
      : {}),
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
 * and the route policy table. A registered route without a declaration or a policy row is left
 * out here, and test/openapi/document.test.ts and test/route-policy.test.ts fail on it.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  const generated = app.getOpenAPI31Document({ openapi: "3.1.0", info: INFO, servers: [{ url: "/" }] });
  const declared = (generated.paths ?? {}) as Record<string, Record<string, Operation>>;
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const policy = ROUTE_POLICIES[`${route.method} ${route.path}`];
    const op = declared[openApiPath(route.path)]?.[route.method.toLowerCase()];
    if (!policy || !op) continue;
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = withPolicy(op, route.method.toLowerCase(), route.path, policy);
  }
  return {
    ...generated,
    paths,
    components: {
      ...generated.components,
      schemas: { ...generated.components?.schemas, Error: jsonSchema(errorSchema) },
      securitySchemes: {
        ApiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The operator key (API_KEY) or a named key (mam_…)" },
        Basic: { type: "http", scheme: "basic", description: "User admin, password: an API key" },
        Bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "From POST /api/admin/login; 30 minutes" },
      },
    },
    "x-error-codes": ERROR_STATUS,
  };
}
