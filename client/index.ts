// The typed client of this API: openapi-fetch over the types that `npm run client:generate` writes
// to schema.ts from the document GET /openapi.json serves. Paths, parameters, bodies and answers
// are checked by the compiler; README "A typed client" shows a caller.
import createClient, { type ClientOptions } from "openapi-fetch";
import type { paths } from "./schema";

export type { components, operations, paths } from "./schema";

/**
 * A client for one server: `baseUrl` is its origin (e.g. "https://api.example.net"), `headers` its
 * credentials (`X-API-Key`, or `Authorization: Bearer <token>`); `fetch` replaces the global one.
 */
export function createApiClient(options: ClientOptions) {
  return createClient<paths>(options);
}

export type ApiClient = ReturnType<typeof createApiClient>;
