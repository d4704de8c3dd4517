import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The same drizzle/ files wrangler applies; applyD1Migrations skips those already recorded.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
