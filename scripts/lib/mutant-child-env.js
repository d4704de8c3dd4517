// A setup file of mutation runs only (vitest.mutants.config.ts): scripts that tests start as
// child processes (scripts/release.js, scripts/check-migrations.js) read the active mutant from
// the environment, since they do not share the test's global object. Stryker's own setup file
// runs first and has set the mutant on the global object by then.
import { beforeAll } from "vitest";

beforeAll(() => {
  const active = globalThis.__stryker__?.activeMutant;
  if (active === undefined) delete process.env.__STRYKER_ACTIVE_MUTANT__;
  else process.env.__STRYKER_ACTIVE_MUTANT__ = String(active);
});
