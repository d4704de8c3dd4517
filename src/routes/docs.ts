import { Hono } from "hono";
import type { AppEnv } from "../context";
import { openApiDocument } from "../openapi/document";

/** The interactive reference: Scalar's viewer, loaded by the browser, reading /openapi.json. */
const REFERENCE_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>MAMcrawler API reference</title>
  </head>
  <body>
    <script id="api-reference" data-url="/openapi.json"></script>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
  </body>
</html>`;

/**
 * `GET /openapi.json` and `GET /docs` for an app. The document is built on first use, from the
 * app's routes as registered, then kept for the isolate's life.
 */
export function docs(app: Hono<AppEnv>) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  const routes = new Hono<AppEnv>();
  routes.get("/openapi.json", (c) => c.json((document ??= openApiDocument(app))));
  routes.get("/docs", (c) => c.html(REFERENCE_PAGE));
  return routes;
}
