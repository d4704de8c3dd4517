// Password hashing with Web Crypto only, and no imports, so that the first-admin script
// (scripts/admin-create.js, on Node) hashes exactly as the Worker verifies.
//
// Format: "pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>". The hash is
// PBKDF2-SHA256(password, per-user salt), then HMAC-SHA256 keyed by the PASSWORD_SALT pepper,
// so a stolen database alone cannot be brute-forced. The parameters travel with the hash, so the
// cost can be raised later and old hashes still verify (and report that they need a rehash).

/** Workers' Web Crypto refuses PBKDF2 above 100,000 iterations. */
export const PASSWORD_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const SCHEME = "pbkdf2-sha256";

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

async function derive(password: string, salt: Uint8Array, iterations: number, pepper: string): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  const pepperKey = await crypto.subtle.importKey("raw", encoder.encode(pepper), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", pepperKey, bits));
}

export async function hashPassword(password: string, pepper: string, iterations: number = PASSWORD_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations, pepper);
  return `${SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** Constant-time check of a password against a stored hash; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string, pepper: string): Promise<{ valid: boolean; needsRehash: boolean }> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (scheme !== SCHEME || !Number.isInteger(iterations) || iterations < 1 || iterations > PASSWORD_ITERATIONS || !saltText || !hashText) {
    // Spend the same time as a real check, so a broken row is not told apart by timing.
    await derive(password, new Uint8Array(SALT_BYTES), PASSWORD_ITERATIONS, pepper);
    return { valid: false, needsRehash: false };
  }
  const expected = fromBase64(hashText);
  const actual = await derive(password, fromBase64(saltText), iterations, pepper);
  let difference = expected.length ^ actual.length;
  for (let i = 0; i < actual.length; i++) difference |= actual[i]! ^ (expected[i] ?? 0);
  return { valid: difference === 0, needsRehash: iterations < PASSWORD_ITERATIONS };
}

/** Burns the time of one verification, for unknown users (same answer, about the same time). */
export async function verifyNothing(password: string, pepper: string): Promise<void> {
  await derive(password, new Uint8Array(SALT_BYTES), PASSWORD_ITERATIONS, pepper);
}
