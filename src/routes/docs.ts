import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../context";
import { json, router } from "../openapi/declare";
import { openApiDocument } from "../openapi/document";

/**
 * The interactive reference: Swagger UI, served by this Worker as static assets (public/docs/;
 * scripts/docs-viewer.js puts the pinned package's bundle in public/docs/vendor/), reading
 * /openapi.json. Nothing is loaded from another origin.
 */
const REFERENCE_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>MAMcrawler API reference</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/docs/vendor/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui" data-url="/openapi.json"></div>
    <script src="/docs/vendor/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>`;

/**
 * The page may run only this Worker's scripts and call only this Worker (the document, and the
 * operations a reader tries out): no inline script or style, no eval, images only from here or
 * the stylesheet's data: icons. The viewer runs under it as is (its React `style` props are set
 * through the DOM, which a CSP allows). Keep in step with public/_headers (/docs/*).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Both answers change only with a deploy: a browser may keep them a few minutes, so reloading the
 * reference is answered from its cache and spends nothing of the `docs` tier (src/route-policy.ts).
 */
export const DOCS_CACHE = "public, max-age=300";

/**
 * `GET /openapi.json` and `GET /docs`. The document is built on first use, from `documented()`
 * (the app with every area built: src/app.ts), then kept for the isolate's life.
 */
export function docs(documented: () => Promise<OpenAPIHono<AppEnv>>) {
  let document: Promise<ReturnType<typeof openApiDocument>> | undefined;
  const routes = router();
  routes.openapi(
    createRoute({
      method: "get",
      path: "/openapi.json",
      tags: ["service"],
      summary: "This API's OpenAPI document",
      description:
        "The OpenAPI 3.1 document of every route: parameters, bodies, answers and errors, each route's rate-limit tier and least role.",
      responses: { 200: json(z.looseObject({ openapi: z.literal("3.1.0") }), "The OpenAPI 3.1 document") },
    }),
    async (c) => {
      document ??= documented().then(openApiDocument);
      const built = await document.catch((error: unknown) => {
        document = undefined;
        throw error;
      });
      c.header("Cache-Control", DOCS_CACHE);
      return c.json(built as { openapi: "3.1.0" }, 200);
    },
  );
  routes.openapi(
    createRoute({
      method: "get",
      path: "/docs",
      tags: ["service"],
      summary: "API reference page",
      description: "Swagger UI, served by this Worker, rendering /openapi.json for reading and trying the routes.",
      responses: { 200: { description: "The reference page", content: { "text/html": { schema: z.string() } } } },
    }),
    (c) => {
      c.header("Content-Security-Policy", DOCS_CSP);
      c.header("Cache-Control", DOCS_CACHE);
      return c.html(REFERENCE_PAGE, 200);
    },
  );
  return routes;
}
