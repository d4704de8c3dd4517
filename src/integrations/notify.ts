import { ServiceClient } from "./http";
import { UpstreamError } from "./upstream-error";

/**
 * One POST to a notification endpoint (./webhook.ts, ./discord.ts, ./ntfy.ts) through the shared
 * HTTP helper: a short deadline, no retry (the dispatcher retries on its own schedule), a small
 * answer read. The endpoint's URL is the client's base and the path is empty, so no log line or
 * error names any part of it (a Discord URL holds its token).
 */

/** Deadline of one send: a dead endpoint costs the dispatcher this much, never a request. */
export const NOTIFY_TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 64 * 1024;
/** Every status is an answer here: the caller records it (and a 429's Retry-After) itself. */
const ANY_STATUS = Array.from({ length: 300 }, (_, i) => 300 + i);

export interface NotifyMessage {
  /** The Standard Webhooks message id: the same on every attempt of one delivery. */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  /** One line for humans (Discord's title, ntfy's Title). */
  title: string;
  /** A few lines for humans. */
  text: string;
  /** How urgent: ntfy's priority 1-5 (3 is its default). */
  priority: number;
}

export type NotifyOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs?: number | undefined };

export interface NotifyRequest {
  url: string;
  headers: Record<string, string>;
  body: { json: unknown } | { text: string; contentType: string };
}

/** Sends and reads the outcome; never throws for what the endpoint did or did not answer. */
export async function post(
  request: NotifyRequest,
  fetcher?: { fetch: typeof fetch },
): Promise<{ status: number; headers: Headers; text: string } | { failure: string }> {
  const client = new ServiceClient({
    service: "notification",
    baseUrl: request.url,
    upstream: { timeoutMs: NOTIFY_TIMEOUT_MS, accessToken: undefined },
    maxBytes: MAX_ANSWER_BYTES,
    ...(fetcher ? { fetcher } : {}),
  });
  try {
    return await client.request({ method: "POST", path: "", headers: request.headers, body: request.body, accept: ANY_STATUS });
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    const failure =
      error.failure === "timeout"
        ? `no answer within ${NOTIFY_TIMEOUT_MS} ms`
        : error.failure === "shape"
          ? "an answer larger than 64 KB"
          : "could not be reached";
    return { failure };
  }
}

/** A 2xx is delivered; anything else a failure naming the status only (never the body the endpoint sent). */
export function outcomeOf(answer: Awaited<ReturnType<typeof post>>, retryAfterMs?: number): NotifyOutcome {
  if ("failure" in answer) return { ok: false, status: null, error: answer.failure };
  if (answer.status >= 200 && answer.status < 300) return { ok: true, status: answer.status };
  const hint = answer.status >= 300 && answer.status < 400 ? " (a redirect: not followed)" : answer.status === 429 ? " (rate limited)" : "";
  return { ok: false, status: answer.status, error: `answered HTTP ${answer.status}${hint}`, retryAfterMs };
}
