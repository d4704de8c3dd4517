import { type NotifyMessage, type NotifyOutcome, outcomeOf, post } from "./notify";
import { retryAfter } from "./retry";

/**
 * An ntfy topic (https://docs.ntfy.sh/publish/): POST the message as text to the topic URL, with
 * `Title`, `Tags` and `Priority` headers, and `Authorization: Bearer <token>` for a protected
 * topic. ntfy answers 200 with the message as JSON; 429 when over its rate limit.
 */

/** Header values are Latin-1: anything else in a title is replaced, not sent mangled. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 250);
}

export async function sendNtfy(url: string, token: string | null, message: NotifyMessage): Promise<NotifyOutcome> {
  const headers: Record<string, string> = {
    Title: headerSafe(message.title),
    Tags: message.type.replace(/\./g, "_"),
    Priority: String(message.priority),
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await post({ url, headers, body: { text: message.text, contentType: "text/plain; charset=utf-8" } });
  if ("failure" in answer || answer.status !== 429) return outcomeOf(answer);
  return outcomeOf(answer, retryAfter(answer.headers.get("Retry-After")));
}
