// A setup file of mutation runs only (vitest.mutants.config.ts): scripts that tests start as
// child processes (scripts/release.js, scripts/check-migrations.js) read the active mutant from
// the environment, since they do not share the test's global object. Stryker's own setup file
// runs first and has set the mutant on the global object by then. Tests that hand a child an
// environment of their own (as a runner would) get the mutant added to it.
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { beforeAll, inject } from "vitest";

const VARIABLE = "__STRYKER_ACTIVE_MUTANT__";

// A mutant that only a child process reaches is covered by no test as Stryker sees it, and Stryker
// reports it "no coverage" without running it: the vitest runner hands Stryker the coverage of the
// test process even with coverageAnalysis "off". So, for such runs (scripts/mutants-generated.js sets
// MUTANTS_COVERAGE=off), none is kept and Stryker runs every test for every mutant.
// Without coverage Stryker cannot tell which mutants sit in code run when a module loads (the
// rules' regexes of scripts/lib/migration-rules.js) and activates each mutant only before the first
// test, after the test file imported the module: such a mutant would never be live. Activated here,
// before any import, every mutant is.
if (process.env.MUTANTS_COVERAGE === "off") {
  globalThis.__stryker__ ??= {};
  Object.defineProperty(globalThis.__stryker__, "mutantCoverage", { configurable: true, get: () => undefined, set: () => {} });
  if (inject("mode") === "mutant") globalThis.__stryker__.activeMutant = inject("activeMutant");
}

beforeAll(() => {
  const active = globalThis.__stryker__?.activeMutant;
  if (active === undefined) delete process.env[VARIABLE];
  else process.env[VARIABLE] = String(active);
});

function withMutant(options) {
  const active = globalThis.__stryker__?.activeMutant;
  if (!options?.env) return options;
  const env = { ...options.env };
  if (active === undefined) delete env[VARIABLE];
  else env[VARIABLE] = String(active);
  return { ...options, env };
}

for (const name of ["spawn", "spawnSync", "execFile", "execFileSync"]) {
  const original = childProcess[name];
  childProcess[name] = (file, args, options, ...rest) =>
    Array.isArray(args) ? original(file, args, withMutant(options), ...rest) : original(file, withMutant(args), options, ...rest);
}
syncBuiltinESMExports();
