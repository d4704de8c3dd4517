import { type ConfigEnv, defineConfig, type ViteUserConfig } from "vitest/config";
import base from "./vitest.config";

// The suite's configuration for generated mutation runs (scripts/mutants-generated.js): the Node
// project also hands the active mutant to the scripts its tests start (scripts/lib/mutant-child-env.js).
export default defineConfig(async (env) => {
  const config = await (base as (e: ConfigEnv) => Promise<ViteUserConfig>)(env);
  for (const project of config.test?.projects ?? []) {
    if (typeof project !== "object" || !("test" in project) || project.test?.name !== "node") continue;
    project.test.setupFiles = ["./scripts/lib/mutant-child-env.js"];
  }
  return config;
});
