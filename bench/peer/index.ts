import { DurableObjectRateLimiter, DurableObjectStore } from "@hono-rate-limiter/cloudflare";
import { type Context, Hono, type Next } from "hono";
import { rateLimiter } from "hono-rate-limiter";
import type { Config } from "../../src/config";
import type { AppEnv } from "../../src/context";
import { renderError } from "../../src/errors";
import { consume } from "../../src/rate-limit/middleware";

export { RateLimiter } from "../../src/rate-limit/durable-object";
export { DurableObjectRateLimiter };
/** The same class on SQLite-backed storage, as Cloudflare recommends for new classes (and ours uses). */
export class DurableObjectRateLimiterSqlite extends DurableObjectRateLimiter {}

/**
 * The budgets both limiters get: `open` never refuses (throughput), `exact` is the exactness
 * check (50 in any 10 s). The client comes from X-Bench-Client, so each measurement starts from
 * an empty budget in a Durable Object of its own.
 */
const SCENARIOS = {
  open: { limit: 9_999_999, windowMs: 60_000 },
  exact: { limit: 50, windowMs: 10_000 },
} as const;
type Scenario = keyof typeof SCENARIOS;

/** The peer's two namespaces, beside the API's own bindings (which `consume` reads). */
type PeerBindings = { PEER_LIMITER: DurableObjectNamespace; PEER_LIMITER_SQLITE: DurableObjectNamespace };

function scenarioOf(c: Context<AppEnv>): Scenario {
  const name = c.req.param("scenario");
  if (name !== "open" && name !== "exact") throw new Error(`unknown scenario ${name}`);
  return name;
}

const clientOf = (c: Context<AppEnv>) => `${scenarioOf(c)}:${c.req.header("X-Bench-Client") ?? "bench"}`;

const app = new Hono<AppEnv>();

// As the package's README wires it: a middleware built per request around the namespace.
// /peer uses the README's storage (key-value), /peer-sqlite the SQLite-backed copy of the class.
const peer = (namespace: (env: PeerBindings) => DurableObjectNamespace) => (c: Context<AppEnv>, next: Next) => {
  const { limit, windowMs } = SCENARIOS[scenarioOf(c)];
  return rateLimiter<AppEnv>({
    windowMs,
    limit,
    standardHeaders: "draft-6",
    keyGenerator: clientOf,
    // The package is typed against workers-types 4; the namespace is the same object.
    store: new DurableObjectStore({ namespace: namespace(c.env as unknown as PeerBindings) as never }),
  })(c, next);
};
app.get(
  "/peer/:scenario",
  peer((env) => env.PEER_LIMITER),
);
app.get(
  "/peer-sqlite/:scenario",
  peer((env) => env.PEER_LIMITER_SQLITE),
);

// The API's own path: `consume` reads the tier's budget from the configuration, asks the
// (tier, client) Durable Object, sets the headers and throws the 429 that `renderError` answers.
app.get("/ours/:scenario", async (c, next) => {
  const budget = SCENARIOS[scenarioOf(c)];
  c.set("config", { isProduction: false, rateLimits: { authenticated: budget } } as unknown as Config);
  await consume(c, "authenticated", clientOf(c));
  await next();
});

app.get("/:limiter/:scenario", (c) => c.text("ok"));
app.onError((error, c) => renderError(c, error));

export default app;
