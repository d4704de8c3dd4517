import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TIERS as TIER_NAMES } from "./src/rate-limit/tiers";

// Node's environment (the project has no @types/node); `npm run fuzz` sets FUZZ_SCALE.
declare const process: { env: Record<string, string | undefined> };

// Tests run inside workerd against the real D1 and Durable Object bindings of wrangler.toml.
// The migration files are read here (in Node) and handed to the tests as bindings, so the tests
// apply exactly what `wrangler d1 migrations apply` applies.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./drizzle");
  const rollbacks = await readD1Migrations("./drizzle/rollback");
  const workers = cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        ENVIRONMENT: "development",
        API_KEY: "test-operator-key-0123456789abcdef0123456789",
        JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789ab",
        PASSWORD_SALT: "test-pepper-0123456789abcdef0123456789abcdef",
        // Generous limits so feature tests are never throttled; the rate-limit tests put
        // the contract's defaults back (test/helpers.ts, `withEnv`).
        RATE_LIMITS: JSON.stringify(Object.fromEntries(TIER_NAMES.map((tier) => [tier, "100000/minute"]))),
        // No outside service is configured, whatever a local .dev.vars says: tests that need one
        // set its bindings themselves and point them at a fake (test/integrations/fake-upstream.ts).
        ...Object.fromEntries(
          [
            "ABS_URL",
            "ABS_TOKEN",
            "ABS_LIBRARY_ID",
            "QB_URL",
            "QB_API_KEY",
            "QB_USERNAME",
            "QB_PASSWORD",
            "PROWLARR_URL",
            "PROWLARR_API_KEY",
            "GOOGLE_BOOKS_API_KEY",
            "UPSTREAM_ACCESS_CLIENT_ID",
            "UPSTREAM_ACCESS_CLIENT_SECRET",
          ].map((name) => [name, ""]),
        ),
        TEST_MIGRATIONS: migrations,
        TEST_ROLLBACKS: rollbacks,
        FUZZ_SCALE: process.env.FUZZ_SCALE ?? "1",
      },
      // A second database that no migration ever touches: the "not migrated" case.
      d1Databases: ["EMPTY_DB"],
    },
  });
  return {
    test: {
      // One JSON line per request is right for Workers Logs and noise in test output.
      onConsoleLog: (log: string) => !log.includes('"event":"request"'),
      projects: [
        {
          plugins: [workers],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/node/**"],
            setupFiles: ["./test/setup.ts"],
            // The machine that runs the suite is shared: a test that takes 2 s alone can take 10 s
            // while others run theirs. Speed is measured by `npm run bench`, never by a timeout.
            testTimeout: 20_000,
          },
        },
        // Checks that need Node (a validator that compiles code, which workerd forbids).
        { test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"], testTimeout: 20_000 } },
      ],
    },
  };
});
