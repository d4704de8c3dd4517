import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv } from "./context";
import { AppError, MethodNotAllowedError, renderError } from "./errors";
import { authenticate } from "./middleware/auth";
import { jsonBody } from "./middleware/body";
import { configGuard } from "./middleware/config-guard";
import { requestId } from "./middleware/request-id";
import { rateLimit } from "./rate-limit/middleware";
import { routePolicy } from "./route-policy";
import { health } from "./routes/health";
import { meta } from "./routes/meta";
import { system } from "./routes/system";

/**
 * The request's path, top to bottom:
 * request id → configuration guard → route policy → auth → rate limit → JSON body
 * → route (validate, call the service, answer in the envelope) | any throw → onError.
 * Routes answer with or without a trailing slash (`strict: false`).
 */
export const app = new Hono<AppEnv>({ strict: false });

app.use(requestId());
app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, allowed) => { throw new MethodNotAllowedError(c.req.method, allowed); } }));
app.use(configGuard());
app.use(routePolicy());
app.use(authenticate());
app.use(rateLimit());
app.use(jsonBody());

app.route("/health", health);
app.route("/", meta);
app.route("/api/system", system);

app.notFound((c) => renderError(c, new AppError("not_found", "Not found", { detail: `No route for ${c.req.method} ${c.req.path}` })));
app.onError((error, c) => renderError(c, error));
