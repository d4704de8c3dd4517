import { OpenAPIHono } from "@hono/zod-openapi";
import { methodNotAllowed } from "hono/method-not-allowed";
import { TrieRouter } from "hono/router/trie-router";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./context";
import { AppError, MethodNotAllowedError, renderError } from "./errors";
import { authenticate } from "./middleware/auth";
import { jsonBody } from "./middleware/body";
import { configGuard } from "./middleware/config-guard";
import { corsFromConfig } from "./middleware/cors";
import { d1Session } from "./middleware/d1-session";
import { noStoreApi } from "./middleware/no-store";
import { requestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { limitUnmatched } from "./middleware/unmatched-limit";
import { rateLimit } from "./rate-limit/middleware";
import { routePolicy } from "./route-policy";
import { admin } from "./routes/admin";
import { authors } from "./routes/authors";
import { books } from "./routes/books";
import { docs } from "./routes/docs";
import { downloads } from "./routes/downloads";
import { gaps } from "./routes/gaps";
import { health } from "./routes/health";
import { integrations } from "./routes/integrations";
import { library } from "./routes/library";
import { meta } from "./routes/meta";
import { metadata } from "./routes/metadata";
import { rateLimits } from "./routes/rate-limits";
import { requests } from "./routes/requests";
import { scheduler } from "./routes/scheduler";
import { series } from "./routes/series";
import { system } from "./routes/system";

/**
 * The request's path, top to bottom:
 * request id → log line → security headers → no-store on /api → a request matching no route costs
 * its address one public request → CORS → 405 check → configuration guard
 * → route policy → D1 session (bookmark in and out) → auth → rate limit → JSON body
 * → route (validate, call the service, answer in the envelope) | any throw → onError.
 * Routes answer with or without a trailing slash (`strict: false`).
 * TrieRouter, not Hono's default SmartRouter: its first choice, RegExpRouter, refuses a literal and
 * a parameter at the same place (`/api/books/search` beside `/api/books/:id`, in any order), so
 * SmartRouter built it and threw it away on every isolate's first request before using TrieRouter.
 */
export const app = new OpenAPIHono<AppEnv>({ strict: false, router: new TrieRouter() });

app.use(requestId());
app.use(requestLog());
app.use(secureHeaders());
app.use(noStoreApi());
app.use(limitUnmatched());
app.use(corsFromConfig());
app.use(
  methodNotAllowed({
    app,
    onMethodNotAllowed: (c, allowed) => {
      throw new MethodNotAllowedError(c.req.method, allowed);
    },
  }),
);
app.use(configGuard());
app.use(routePolicy());
app.use(d1Session());
app.use(authenticate());
app.use(rateLimit());
app.use(jsonBody());

app.route("/health", health);
app.route("/", meta);
app.route("/", docs(app));
app.route("/api/books", books);
app.route("/api/series", series);
app.route("/api/authors", authors);
app.route("/api/metadata", metadata);
app.route("/api/library", library);
app.route("/api/integrations", integrations);
app.route("/api/downloads", downloads);
app.route("/api/gaps", gaps);
app.route("/api/requests", requests);
app.route("/api/scheduler", scheduler);
app.route("/api/system", system);
app.route("/api/admin", admin);
app.route("/api/admin/rate-limits", rateLimits);

app.notFound((c) => renderError(c, new AppError("not_found", "Not found", { detail: `No route for ${c.req.method} ${c.req.path}` })));
app.onError((error, c) => renderError(c, error));
