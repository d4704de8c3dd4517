import { fromBase64, toBase64 } from "../lib/crypto";
import { type NotifyMessage, type NotifyOutcome, outcomeOf, post } from "./notify";

/**
 * A generic JSON endpoint, signed as the Standard Webhooks specification says
 * (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the bytes
 * of the secret after `whsec_`. The body is `{ type, timestamp, data }`.
 */

const encoder = new TextEncoder();
export const SECRET_PREFIX = "whsec_";

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** `v1,<signature>` of one message, as a receiver recomputes it. */
export async function signature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = fromBase64(secret.slice(SECRET_PREFIX.length));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

export async function sendWebhook(url: string, secret: string, message: NotifyMessage, now: Date): Promise<NotifyOutcome> {
  const body = JSON.stringify({ type: message.type, timestamp: message.timestamp, data: message.data });
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    "webhook-id": message.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signature(secret, message.id, timestamp, body),
  };
  return outcomeOf(await post({ url, headers, body: { text: body, contentType: "application/json" } }));
}
