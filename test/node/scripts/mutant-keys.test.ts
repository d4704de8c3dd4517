import { describe, expect, it } from "vitest";
import { inSample, mutantKey, originalText, wilson } from "../../../scripts/lib/mutant-keys.js";

// Generated mutants are named by what they change, not where (scripts/mutants-generated.js): a
// reviewed equivalent mutant must keep its name when unrelated code moves, and a sample drawn with
// a seed must be the same sample on the next run.
const FILE = "src/rate-limit/refusals.ts";

describe("a generated mutant's key", () => {
  const before = ["const a = 1;", "if (refusal.until <= now) {", "  return;", "}"].join("\n");
  const after = ["// a new comment", "const a = 1;", "const b = 2;", "    if (refusal.until   <= now) {", "  return;", "}"].join("\n");

  it("is the same when lines are added above it or it is re-indented", () => {
    const old = originalText(before, { start: { line: 1, column: 4 }, end: { line: 1, column: 24 } }, 0);
    const moved = originalText(after, { start: { line: 3, column: 8 }, end: { line: 3, column: 30 } }, 0);
    expect(old).toBe("refusal.until <= now");
    expect(moved).toBe("refusal.until   <= now");
    expect(mutantKey(FILE, "EqualityOperator", old, "refusal.until < now")).toBe(
      mutantKey(FILE, "EqualityOperator", moved, "refusal.until < now"),
    );
  });

  it("differs with the file, the kind, the replaced text or the replacement", () => {
    const key = mutantKey(FILE, "EqualityOperator", "a <= b", "a < b");
    expect(mutantKey("src/rate-limit/tiers.ts", "EqualityOperator", "a <= b", "a < b")).not.toBe(key);
    expect(mutantKey(FILE, "ConditionalExpression", "a <= b", "a < b")).not.toBe(key);
    expect(mutantKey(FILE, "EqualityOperator", "a >= b", "a < b")).not.toBe(key);
    expect(mutantKey(FILE, "EqualityOperator", "a <= b", "a > b")).not.toBe(key);
  });

  it("reads the same text from Stryker's positions (from 0) and its report's (from 1), across lines too", () => {
    const source = "function f() {\n  return x?.y;\n}\n";
    expect(originalText(source, { start: { line: 1, column: 9 }, end: { line: 1, column: 13 } }, 0)).toBe("x?.y");
    expect(originalText(source, { start: { line: 2, column: 10 }, end: { line: 2, column: 14 } }, 1)).toBe("x?.y");
    expect(originalText(source, { start: { line: 0, column: 13 }, end: { line: 2, column: 1 } }, 0)).toBe("{\n  return x?.y;\n}");
  });
});

describe("the seeded sample", () => {
  const keys = Array.from({ length: 2000 }, (_, i) => mutantKey(FILE, "StringLiteral", `"s${i}"`, '""'));

  it("picks the same mutants for the same seed, others for another seed", () => {
    const first = keys.filter((k) => inSample(k, 0.1, "27"));
    expect(keys.filter((k) => inSample(k, 0.1, "27"))).toEqual(first);
    expect(keys.filter((k) => inSample(k, 0.1, "28"))).not.toEqual(first);
  });

  it("holds about the share asked for, and everything at 1", () => {
    const share = keys.filter((k) => inSample(k, 0.1, "27")).length / keys.length;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
    expect(keys.every((k) => inSample(k, 1, "27"))).toBe(true);
  });

  it("reports how far a sampled score can be from the whole: 95 % Wilson interval", () => {
    const [low, high] = wilson(18, 20);
    expect(low).toBeCloseTo(69.9, 0);
    expect(high).toBeCloseTo(97.2, 0);
    expect(wilson(0, 0)).toEqual([0, 100]);
  });
});
