import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../src/lib/password";

const PEPPER = "test-pepper-for-password-checks-0123456789";

describe("password verification", () => {
  it("accepts the password and refuses 2000 near and far misses (every byte of the hash is compared)", async () => {
    // One PBKDF2 iteration keeps 2000 checks fast; the comparison is the same at any cost.
    const stored = await hashPassword("correct horse battery staple", PEPPER, 1);
    expect(await verifyPassword("correct horse battery staple", stored, PEPPER)).toEqual({ valid: true, needsRehash: true });
    for (let i = 0; i < 2000; i++) {
      const guess = i % 2 === 0 ? `correct horse battery staple${i}` : `guess-${i}`;
      expect((await verifyPassword(guess, stored, PEPPER)).valid, guess).toBe(false);
    }
  });
});
