// The seeded sample of a folder's generated mutants, found before any test runs: Stryker's own
// instrumenter lists every mutant of the files (seconds), the sample is drawn from their keys, and
// Stryker is then given only the lines that hold a sampled mutant, so its first measured run covers
// only the test files of the files sampled (scripts/mutants-generated.js).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Instrumenter } from "@stryker-mutator/instrumenter";
import { inSample, mutantKey, originalText } from "./mutant-keys.js";

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  trace() {},
  isDebugEnabled: () => false,
  isTraceEnabled: () => false,
  isInfoEnabled: () => false,
};

/** Every mutant of `files` counted, and the sampled ones as Stryker `mutate` line ranges. */
export async function sampleTargets(root, files, rate, seed) {
  const sources = files.map((file) => ({ file, content: readFileSync(join(root, file), "utf8") }));
  const result = await new Instrumenter(quiet).instrument(
    sources.map(({ file, content }) => ({ name: join(root, file), content, mutate: true })),
    { plugins: null, excludedMutations: [], ignorers: [], noHeader: false },
  );
  const byName = new Map(sources.map((s) => [join(root, s.file), s]));
  const ranges = new Set();
  for (const m of result.mutants) {
    const { file, content } = byName.get(m.fileName);
    const key = mutantKey(file, m.mutatorName, originalText(content, m.location, 0), m.replacement);
    if (inSample(key, rate, seed)) ranges.add(`${file}:${m.location.start.line + 1}-${m.location.end.line + 1}`);
  }
  return { generated: result.mutants.length, mutate: [...ranges].sort() };
}
