// A setup file of mutation runs only (vitest.mutants.config.ts): scripts that tests start as
// child processes (scripts/release.js, scripts/check-migrations.js) read the active mutant from
// the environment, since they do not share the test's global object. Stryker's own setup file
// runs first and has set the mutant on the global object by then. Tests that hand a child an
// environment of their own (as a runner would) get the mutant added to it.
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { beforeAll } from "vitest";

const VARIABLE = "__STRYKER_ACTIVE_MUTANT__";

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
