import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { jsonTable } from "../../db/json-rows";
import { type NotificationDelivery, type NotificationEndpoint, notificationDeliveries, notificationEndpoints } from "../../db/schema";
import { sendDiscord } from "../../integrations/discord";
import { NOTIFY_TIMEOUT_MS, type NotifyMessage, type NotifyOutcome } from "../../integrations/notify";
import { sendNtfy } from "../../integrations/ntfy";
import { sendWebhook } from "../../integrations/webhook";
import { messageOf } from "./messages";
import { unseal } from "./seal";

/**
 * The dispatcher's last step each tick (src/scheduler/dispatch.ts): sends the due deliveries (./enqueue.ts wrote them), at most MAX_SENDS_PER_RUN
 * a run, all at once, each within NOTIFY_TIMEOUT_MS. A failed attempt is retried after a delay
 * that doubles (5 minutes, then 10, 20 ... at most 6 hours, or longer when the endpoint's 429 asks),
 * and given up after MAX_ATTEMPTS. Three D1 queries a run whatever it sends: claim, endpoints, results.
 */

/**
 * Sends per tick: with CATALOGUE's 35 subrequests and QUEUE's (2 polls and 2 a send, 8 at most:
 * QUEUE_SENDS_PER_RUN), within the Free plan's 50 (DEPLOYMENT.md, "Free or Paid").
 */
export const MAX_SENDS_PER_RUN = 5;
export const MAX_ATTEMPTS = 8;
export const RETRY_BASE_MS = 5 * 60_000;
const RETRY_MAX_MS = 6 * 3_600_000;
/** A claimed delivery another run may take again after this (a run stopped part way). */
const CLAIM_MS = 10 * 60_000;
const MAX_ERROR_LENGTH = 200;

/** When the attempt after `attempts` failed ones is due. */
export function retryDelay(attempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);
  return Math.min(Math.max(backoff, retryAfterMs ?? 0), 24 * 3_600_000);
}

/** One message to one endpoint, its URL and secret unsealed; never throws for the endpoint's failure. */
export async function sendTo(
  endpoint: Pick<NotificationEndpoint, "kind" | "urlSealed" | "secretSealed">,
  message: NotifyMessage,
  pepper: string,
  now: Date,
): Promise<NotifyOutcome> {
  let url: string;
  let secret: string | null;
  try {
    url = await unseal(pepper, endpoint.urlSealed);
    secret = endpoint.secretSealed ? await unseal(pepper, endpoint.secretSealed) : null;
  } catch {
    return {
      ok: false,
      status: null,
      error: "the endpoint's URL or secret cannot be decrypted (PASSWORD_SALT changed?): register it again",
    };
  }
  if (endpoint.kind === "discord") return sendDiscord(url, message);
  if (endpoint.kind === "ntfy") return sendNtfy(url, secret, message);
  if (!secret) return { ok: false, status: null, error: "the webhook has no signing secret: register it again" };
  return sendWebhook(url, secret, message, now);
}

type Claimed = Pick<NotificationDelivery, "id" | "endpointId" | "messageId" | "event" | "payload" | "attempts">;
type ClaimedEndpoint = Pick<NotificationEndpoint, "id" | "kind" | "urlSealed" | "secretSealed"> & { enabled: number | boolean };

interface Result {
  id: number;
  status: "delivered" | "pending" | "failed";
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
}

function resultOf(delivery: Claimed, outcome: NotifyOutcome, now: Date): Result {
  const attempts = delivery.attempts + 1;
  const stamp = now.toISOString();
  if (outcome.ok)
    return {
      id: delivery.id,
      status: "delivered",
      attempts,
      next_attempt_at: null,
      last_status: outcome.status,
      last_error: null,
      delivered_at: stamp,
    };
  const giveUp = attempts >= MAX_ATTEMPTS;
  return {
    id: delivery.id,
    status: giveUp ? "failed" : "pending",
    attempts,
    next_attempt_at: giveUp ? null : new Date(now.getTime() + retryDelay(attempts, outcome.retryAfterMs)).toISOString(),
    last_status: outcome.status,
    last_error: (giveUp ? `gave up after ${attempts} attempts: ${outcome.error}` : outcome.error).slice(0, MAX_ERROR_LENGTH),
    delivered_at: null,
  };
}

/** A delivery closed without an attempt. */
function unsent(delivery: Claimed): Result {
  const base = { id: delivery.id, attempts: delivery.attempts, next_attempt_at: null, last_status: null, delivered_at: null };
  return { ...base, status: "failed", last_error: null };
}

export interface DeliveryReport {
  sent: number;
  delivered: number;
  retrying: number;
  gave_up: number;
  timeout_ms: number;
}

export async function deliverDue(db: Database, config: Config, now = new Date()): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, delivered: 0, retrying: 0, gave_up: 0, timeout_ms: NOTIFY_TIMEOUT_MS };
  const pepper = config.secrets.PASSWORD_SALT;
  if (!pepper) return report;
  const d = notificationDeliveries;
  const stamp = now.toISOString();
  // Claimed in the statement that reads them: two runs at once never send one delivery twice.
  const due = db
    .select({ id: d.id })
    .from(d)
    .where(and(eq(d.status, "pending"), lte(d.nextAttemptAt, stamp)))
    .orderBy(asc(d.nextAttemptAt), asc(d.id))
    .limit(MAX_SENDS_PER_RUN);
  const e = notificationEndpoints;
  const claimed = await db
    .update(d)
    .set({ nextAttemptAt: new Date(now.getTime() + CLAIM_MS).toISOString(), lastAttemptAt: stamp })
    .where(and(inArray(d.id, due), eq(d.status, "pending")))
    .returning({
      delivery: sql<string>`json_object('id', ${d.id}, 'endpointId', ${d.endpointId}, 'messageId', ${d.messageId}, 'event', ${d.event},
        'payload', json(${d.payload}), 'attempts', ${d.attempts})`,
      // The endpoint in the same statement (a subquery of RETURNING): a tick spends two D1 queries here, not three.
      endpoint: sql<string | null>`(SELECT json_object('id', ${e.id}, 'kind', ${e.kind}, 'urlSealed', ${e.urlSealed},
        'secretSealed', ${e.secretSealed}, 'enabled', ${e.enabled}) FROM ${e} WHERE ${e.id} = ${d.endpointId})`,
    });
  if (claimed.length === 0) return report;
  const results = await Promise.all(
    claimed.map(async (row): Promise<Result> => {
      const delivery = JSON.parse(row.delivery) as Claimed;
      const endpoint = row.endpoint ? (JSON.parse(row.endpoint) as ClaimedEndpoint) : null;
      // A disabled endpoint's deliveries end here: enabling it again does not replay old events.
      if (!endpoint?.enabled) return { ...unsent(delivery), last_error: "not sent: the endpoint is disabled" };
      report.sent++;
      return resultOf(delivery, await sendTo(endpoint, messageOf(delivery), pepper, now), now);
    }),
  );
  for (const result of results) {
    if (result.status === "delivered") report.delivered++;
    else if (result.status === "pending") report.retrying++;
    else report.gave_up++;
  }
  const table = jsonTable("r", ["id", "status", "attempts", "next_attempt_at", "last_status", "last_error", "delivered_at"], results);
  await db
    .update(d)
    .set({
      status: sql`r.status`,
      attempts: sql`r.attempts`,
      nextAttemptAt: sql`r.next_attempt_at`,
      lastStatus: sql`r.last_status`,
      lastError: sql`r.last_error`,
      deliveredAt: sql`r.delivered_at`,
    })
    .from(table)
    .where(eq(d.id, sql`r.id`));
  return report;
}
