import { fakeUpstream, json } from "./fake-upstream";

/**
 * Fake notification receivers, answering as the real ones do:
 * - a generic webhook receiver that verifies the Standard Webhooks signature as the spec says
 *   (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md),
 *   written here from the spec, not from src/, and answers 204 when it holds, 401 when not;
 * - Discord's execute-webhook: 204 No Content without `?wait=true`; when rate limited, 429 with
 *   `{"message": "You are being rate limited.", "retry_after": <seconds>, "global": false}` and
 *   a Retry-After header (https://discord.com/developers/docs/topics/rate-limits);
 * - ntfy's publish: 200 with the message as JSON (`id`, `time`, `expires`, `event: "message"`,
 *   `topic`, `title`, `message`, `priority`, `tags`) (https://docs.ntfy.sh/publish/).
 */

export const WEBHOOK_URL = "https://hooks.example.test/mam";
export const DISCORD_URL = "https://discord.com/api/webhooks/112233445566778899/AbCdEf-discord-TOKEN_0123456789";
export const NTFY_URL = "https://ntfy.example.test/mam-alerts-7f3a";
export const NTFY_TOKEN = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";

/** Verifies a Standard Webhooks request: a `v1,` signature among the space-separated ones, a timestamp within 5 minutes. */
export async function verifyStandardWebhook(secret: string, headers: Headers, body: string, nowSeconds: number): Promise<boolean> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > 5 * 60) return false;
  const key = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(`${id}.${timestamp}.${body}`)));
  const expected = btoa(String.fromCharCode(...mac));
  return signatures.split(" ").some((s) => {
    const [version, value] = s.split(",");
    return (
      version === "v1" &&
      value !== undefined &&
      value.length === expected.length &&
      crypto.subtle.timingSafeEqual(new TextEncoder().encode(value), new TextEncoder().encode(expected))
    );
  });
}

export interface ReceiverOptions {
  /** The webhook's secret, to verify with (set after creation). */
  secret?: () => string | undefined;
  /** Discord answers 429 this many times first. */
  discordRateLimited?: number;
  /** Whether the generic endpoint is dead (connection refused). */
  webhookDead?: boolean;
  /** The receiver's clock, Unix seconds. */
  nowSeconds?: () => number;
}

export function fakeReceivers(options: ReceiverOptions = {}) {
  const verified: { id: string; body: unknown; valid: boolean }[] = [];
  let limited = options.discordRateLimited ?? 0;
  const fake = fakeUpstream(async (request, url) => {
    const body = await request.text();
    if (url.host === "hooks.example.test") {
      if (options.webhookDead) throw new TypeError("fetch failed: connection refused");
      const secret = options.secret?.();
      const now = options.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
      const valid = secret !== undefined && (await verifyStandardWebhook(secret, request.headers, body, now));
      verified.push({ id: request.headers.get("webhook-id") ?? "", body: JSON.parse(body), valid });
      return new Response(null, { status: valid ? 204 : 401 });
    }
    if (url.host === "discord.com") {
      if (limited > 0) {
        limited--;
        return json(
          { message: "You are being rate limited.", retry_after: 64.57, global: false },
          { status: 429, headers: { "Retry-After": "65" } },
        );
      }
      return new Response(null, { status: 204 });
    }
    if (url.host === "ntfy.example.test") {
      if (request.headers.get("Authorization") !== `Bearer ${NTFY_TOKEN}`)
        return json(
          { code: 40101, http: 401, error: "unauthorized", link: "https://ntfy.sh/docs/publish/#authentication" },
          { status: 401 },
        );
      const time = Math.floor(Date.now() / 1000);
      return json({
        id: "sPs71M8A2T",
        time,
        expires: time + 43200,
        event: "message",
        topic: url.pathname.slice(1),
        title: request.headers.get("Title") ?? undefined,
        message: body,
        priority: Number(request.headers.get("Priority") ?? 3),
        tags: request.headers.get("Tags")?.split(","),
      });
    }
    throw new TypeError(`fetch failed: no route to ${url.host}`);
  });
  return { ...fake, verified };
}
