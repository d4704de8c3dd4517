import { describe, expect, it } from "vitest";
import { isKnownKey, rememberKey } from "../../src/middleware/known-keys";

// Driven as authenticate() drives it (a key remembered once its lookup found it), with the times given.
const at = Date.UTC(2030, 0, 1);
const keyHash = (name: string) => `${name}-${crypto.randomUUID()}`;

describe("the named keys an isolate knows", () => {
  it("knows a found key for 10 minutes from its lookup, and not from the instant those end", () => {
    const key = keyHash("found");
    expect(isKnownKey(key, at)).toBe(false);
    rememberKey(key, at);
    expect(isKnownKey(key, at + 10 * 60_000 - 1)).toBe(true);
    expect(isKnownKey(key, at + 10 * 60_000)).toBe(false);
    // Found again later: known for 10 minutes from then.
    rememberKey(key, at + 20 * 60_000);
    expect(isKnownKey(key, at + 29 * 60_000)).toBe(true);
  });

  it("knows at most the 10,000 keys found last: a flood of keys forgets the oldest, and a key found again is new", () => {
    // The flood replaces every key the other tests left.
    const flood = Array.from({ length: 10_000 }, (_, i) => keyHash(`flood-${i}`));
    for (const key of flood) rememberKey(key, at);
    expect(isKnownKey(flood[0]!, at)).toBe(true);
    expect(isKnownKey(flood[9_999]!, at)).toBe(true);

    // The sixth oldest is found again: now the newest. Six more keys push out the six oldest, and it is not one of them.
    rememberKey(flood[5]!, at);
    for (let i = 0; i < 6; i++) rememberKey(keyHash(`late-${i}`), at);
    expect([0, 4, 5, 6, 7].map((i) => isKnownKey(flood[i]!, at))).toEqual([false, false, true, false, true]);
  });
});
