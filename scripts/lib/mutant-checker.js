// A Stryker checker (scripts/mutants-generated.js) that runs only the seeded sample and skips the
// mutants reviewed as equivalent: the others get a "compile error" status that the summary
// reads as "not run". Options come from the environment the driver sets.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { declareClassPlugin, PluginKind } from "@stryker-mutator/api/plugin";
import equivalents from "../mutants-equivalent.js";
import { inSample, mutantKey, originalText } from "./mutant-keys.js";

export const NOT_SAMPLED = "mutants: not in the sample";
export const EQUIVALENT = "mutants: reviewed equivalent";

class SampleChecker {
  constructor() {
    this.rate = Number(process.env.MUTANTS_SAMPLE_RATE ?? "1");
    this.seed = process.env.MUTANTS_SEED ?? "27";
    this.root = process.env.MUTANTS_ROOT ?? process.cwd();
    this.equivalent = new Set(equivalents.map((e) => e.key));
    this.sources = new Map();
  }
  async init() {}
  async check(mutants) {
    const results = {};
    for (const m of mutants) {
      const file = relative(this.root, m.fileName);
      if (!this.sources.has(m.fileName)) this.sources.set(m.fileName, readFileSync(m.fileName, "utf8"));
      const key = mutantKey(file, m.mutatorName, originalText(this.sources.get(m.fileName), m.location, 0), m.replacement);
      if (!inSample(key, this.rate, this.seed)) results[m.id] = { status: "compileError", reason: NOT_SAMPLED };
      else if (this.equivalent.has(key)) results[m.id] = { status: "compileError", reason: EQUIVALENT };
      else results[m.id] = { status: "passed" };
    }
    return results;
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Checker, "mutant-sample", SampleChecker)];
