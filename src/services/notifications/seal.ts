// Secrets of notification endpoints at rest: AES-256-GCM under a key derived (HKDF-SHA256) from
// the PASSWORD_SALT binding, so a D1 export alone reveals no Discord token, ntfy token, signing
// secret or endpoint URL (DEPLOYMENT.md, "Notifications"). PASSWORD_SALT, not JWT_SECRET: it is
// never rotated (that would lock every password out), while JWT_SECRET is rotated to sign
// everyone out, which would leave every endpoint undecryptable.

import { fromBase64, toBase64 } from "../../lib/crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Names the purpose inside the derivation: the same pepper gives the password HMAC another key. */
const INFO = encoder.encode("mamcrawler notification endpoint secrets v1");
const VERSION = "v1";

const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(pepper: string): Promise<CryptoKey> {
  let key = keys.get(pepper);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", encoder.encode(pepper), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO },
          base,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    keys.set(pepper, key);
  }
  return key;
}

/** "v1.<iv>.<ciphertext>", both base64: a fresh 96-bit IV for each value. */
export async function seal(pepper: string, plain: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await keyOf(pepper), encoder.encode(plain));
  return `${VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/** The value `seal` sealed; throws when the key differs (PASSWORD_SALT changed) or the text was altered. */
export async function unseal(pepper: string, sealed: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== VERSION || !iv || !data) throw new Error("Not a sealed value");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(iv) }, await keyOf(pepper), fromBase64(data));
  return decoder.decode(plain);
}
