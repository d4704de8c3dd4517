// Names for generated mutants that survive unrelated edits, and the seeded sample of them
// (scripts/mutants-generated.js; the Stryker checker scripts/lib/mutant-checker.js uses the same
// functions, so the run and its summary agree on which mutants are in the sample).
import { createHash } from "node:crypto";

/** Whitespace runs as one space: a reformatted line keeps its key. */
const collapse = (text) => text.replace(/\s+/g, " ").trim();

/**
 * The source text a mutant replaces. `base` is 0 for Stryker's own positions (lines and columns
 * from 0) and 1 for its JSON report (from 1).
 */
export function originalText(source, location, base) {
  const lines = source.split("\n");
  const { start, end } = location;
  const from = start.line - base;
  const to = end.line - base;
  if (from === to) return lines[from]?.slice(start.column - base, end.column - base) ?? "";
  const middle = lines.slice(from + 1, to);
  return [lines[from]?.slice(start.column - base) ?? "", ...middle, lines[to]?.slice(0, end.column - base) ?? ""].join("\n");
}

/**
 * A mutant's key: its file, its kind, the text it replaces and its replacement, never its line
 * number, so an edit elsewhere in the file does not rename it. Identical text mutated the same
 * way twice in one file shares a key (and a verdict).
 */
export function mutantKey(file, mutatorName, original, replacement) {
  const hash = createHash("sha256");
  hash.update([file.replaceAll("\\", "/"), mutatorName, collapse(original), collapse(replacement)].join("\u0000"));
  return hash.digest("hex").slice(0, 12);
}

/** Whether a key is in the sample of `rate` (0 to 1] drawn with `seed`: the same answer every run. */
export function inSample(key, rate, seed) {
  if (rate >= 1) return true;
  const digest = createHash("sha256").update(`${seed}:${key}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < rate;
}

/** One line of a mutant for people: the replaced text and its replacement, shortened. */
export function describe(original, replacement) {
  const short = (text) => {
    const one = collapse(text);
    return one.length > 70 ? `${one.slice(0, 67)}...` : one;
  };
  return `${short(original)}  ->  ${short(replacement)}`;
}

/**
 * The 95 % Wilson interval of a proportion `k` of `n` (in percent): how far a sampled score may
 * be from the score of the whole population of mutants.
 */
export function wilson(k, n) {
  if (n === 0) return [0, 100];
  const z = 1.96;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, 100 * (centre - half)), Math.min(100, 100 * (centre + half))];
}

export { collapse };
