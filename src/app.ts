import { Hono } from "hono";
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
import { mountLazily } from "./routes/areas";

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
export const app = new Hono<AppEnv>({ strict: false, router: new TrieRouter() });

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

// /health, /, /docs, /api/books, ... /api/admin: each area built on its first request (src/routes/areas.ts).
mountLazily(app);

app.notFound((c) => renderError(c, new AppError("not_found", "Not found", { detail: `No route for ${c.req.method} ${c.req.path}` })));
app.onError((error, c) => renderError(c, error));
