/// <reference types="vite/client" />
// Bindings that exist only in tests (vitest.config.ts adds them).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    TEST_ROLLBACKS: import("cloudflare:test").D1Migration[];
    EMPTY_DB: D1Database;
    /** `npm run fuzz` sets it (10): the property test's runs are multiplied by it. */
    FUZZ_SCALE: string;
  }
}
