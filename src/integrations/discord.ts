import { type NotifyMessage, type NotifyOutcome, outcomeOf, post } from "./notify";
import { retryAfter } from "./retry";

/**
 * A Discord channel webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook):
 * POST JSON with `content` and `embeds`; Discord answers 204 No Content (no `?wait=true`). Its 429
 * carries `retry_after` (seconds, in the JSON body) and a Retry-After header: the next attempt
 * waits at least that long. Mentions are never parsed: an event's text cannot ping @everyone.
 */

/** Embed colours by urgency (ntfy's 1-5 priorities). */
const COLOURS: Record<number, number> = { 1: 0x95a5a6, 2: 0x95a5a6, 3: 0x3498db, 4: 0xe67e22, 5: 0xe74c3c };

/** What Discord accepts as a webhook URL (discord.com and its older and test hosts). */
export const DISCORD_WEBHOOK = /^https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api(?:\/v\d+)?\/webhooks\/(\d+)\/([\w-]+)$/;

export async function sendDiscord(url: string, message: NotifyMessage): Promise<NotifyOutcome> {
  const embed = {
    title: message.title.slice(0, 256),
    description: message.text.slice(0, 4096),
    color: COLOURS[message.priority] ?? COLOURS[3],
    timestamp: message.timestamp,
    footer: { text: message.type },
  };
  const answer = await post({
    url,
    headers: {},
    body: { json: { content: message.title.slice(0, 2000), embeds: [embed], allowed_mentions: { parse: [] } } },
  });
  if ("failure" in answer || answer.status !== 429) return outcomeOf(answer);
  return outcomeOf(answer, discordRetryAfter(answer.text, answer.headers));
}

/** Discord's wait: the body's `retry_after` (seconds, may be fractional), else the header. */
function discordRetryAfter(text: string, headers: Headers): number | undefined {
  try {
    const seconds = (JSON.parse(text) as { retry_after?: unknown }).retry_after;
    if (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  } catch {
    // Not JSON (a proxy's page): the header decides.
  }
  return retryAfter(headers.get("Retry-After"));
}
