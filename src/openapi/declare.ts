import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../context";
import { ValidationError } from "../errors";
import { fieldErrors, lineControlErrors, withoutControlCharacters } from "../lib/validate";
import { errorSchema } from "./schemas";

/**
 * How routes are declared: each area is a `router()`, and each route one `createRoute({...})`
 * (from @hono/zod-openapi) with its request schemas, its responses, a summary and a description.
 * The same declaration validates the request, types the handler's answer and writes the route
 * into /openapi.json (src/openapi/document.ts adds each route's tier and role from
 * src/route-policy.ts, and the errors every route shares).
 */
export function router() {
  return new OpenAPIHono<AppEnv>({
    // A request that fails its schemas: the standard 422, listing every problem, thrown so
    // that app.onError renders it like every other error.
    // Control characters in a path or query are refused first, alone (a body's are refused by
    // its schema: see jsonBody).
    defaultHook: (result, c) => {
      if (result.target === "param" || result.target === "query") {
        const raw = result.target === "param" ? c.req.param() : single(c.req.queries());
        const refused = lineControlErrors(result.target, raw);
        if (refused.length > 0) throw new ValidationError(refused);
      }
      if (!result.success) throw new ValidationError(fieldErrors(result.target, result.error.issues));
    },
  });
}

/** Query values as the validator reads them: one value as a string, repeated ones as a list. */
function single(queries: Record<string, string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(queries).map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
}

/** A route's JSON body: refused with a 422 when its text holds control characters, before its schema runs. */
export function jsonBody<Schema extends z.ZodType>(schema: Schema, description?: string) {
  return { required: true, description, content: { "application/json": { schema: withoutControlCharacters("json", schema) } } };
}

/** The success envelope (src/lib/response.ts) around `data`. */
export function envelope<Data extends z.ZodType>(data: Data) {
  return z.strictObject({ success: z.literal(true), data, error: z.null(), timestamp: z.iso.datetime() });
}

/** A JSON answer of `schema`, described for the caller. */
export function json<Schema extends z.ZodType>(schema: Schema, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** The success answer of a route: `data` in the envelope. */
export function success<Data extends z.ZodType>(data: Data, description: string) {
  return json(envelope(data), description);
}

/**
 * The failures a route's own handler can answer with, beyond those every route shares (401/403
 * by its role, 422 when it validates input, 429, 500, 503: added by src/openapi/document.ts).
 */
const ROUTE_ERRORS = {
  400: "The request cannot be carried out as sent",
  401: "The credentials sent are wrong",
  404: "No such resource",
  409: "Conflicts with the current state (duplicate or wrong state)",
  422: "Validation failed: `errors` lists every problem",
  423: "Account locked after repeated failed logins",
  502: "An outside service failed or answered wrongly",
  503: "An outside service is not configured or not reachable",
} as const;
export type RouteErrorStatus = keyof typeof ROUTE_ERRORS;

/** The documented error answers `{ 404: ..., 409: ... }`, each with a description of when it happens. */
export function errors<const Status extends RouteErrorStatus>(when: { [S in Status]?: string }) {
  return Object.fromEntries(
    Object.entries(when).map(([status, description]) => [
      status,
      json(errorSchema, (description as string | undefined) ?? ROUTE_ERRORS[Number(status) as RouteErrorStatus]),
    ]),
  ) as { [S in Status]: ReturnType<typeof json<typeof errorSchema>> };
}

/** `{ <key>: items, total, page_info }`, a page of a list (src/lib/pagination.ts). */
export function pageOf<Key extends string, Item extends z.ZodType>(key: Key, item: Item) {
  return z.strictObject({
    [key]: z.array(item),
    total: z.number().int().min(0),
    page_info: z.strictObject({ limit: z.number().int(), offset: z.number().int(), has_more: z.boolean() }),
  } as { [K in Key]: z.ZodArray<Item> } & {
    total: z.ZodNumber;
    page_info: z.ZodObject<{ limit: z.ZodNumber; offset: z.ZodNumber; has_more: z.ZodBoolean }>;
  });
}
