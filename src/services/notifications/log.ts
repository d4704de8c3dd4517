import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { Config } from "../../config";
import { requireSecret } from "../../config";
import type { Database } from "../../db/client";
import { type DELIVERY_STATUSES, type NotificationDelivery, notificationDeliveries } from "../../db/schema";
import type { PageQuery } from "../../lib/pagination";
import { sendTo } from "./deliver";
import { endpointRow } from "./endpoints";
import { messageOf } from "./messages";

// The delivery log admins read, and the test send.

export function deliveryJson(row: NotificationDelivery) {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    event: row.event,
    message_id: row.messageId,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? row.nextAttemptAt : null,
    last_attempt_at: row.lastAttemptAt,
    last_status: row.lastStatus,
    last_error: row.lastError,
    delivered_at: row.deliveredAt,
    created_at: row.createdAt,
    payload: row.payload,
  };
}

export interface DeliveryFilter {
  endpoint_id?: number | undefined;
  status?: (typeof DELIVERY_STATUSES)[number] | undefined;
}

/** Newest first, by endpoint and status. */
export async function listDeliveries(db: Database, filter: DeliveryFilter, paging: PageQuery) {
  const d = notificationDeliveries;
  const conditions: SQL[] = [];
  if (filter.endpoint_id !== undefined) conditions.push(eq(d.endpointId, filter.endpoint_id));
  if (filter.status) conditions.push(eq(d.status, filter.status));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const [rows, [total]] = await db.batch([
    db.select().from(d).where(where).orderBy(desc(d.createdAt), desc(d.id)).limit(paging.limit).offset(paging.offset),
    db.select({ n: count() }).from(d).where(where),
  ]);
  return { rows: rows.map(deliveryJson), total: total?.n ?? 0 };
}

/**
 * POST .../test: one `test` message to the endpoint now, whether it is enabled or not, and what it
 * answered. Not queued and not retried: the admin sees the outcome at once (within the send's deadline).
 */
export async function testSend(db: Database, config: Config, id: number, now = new Date()) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  const endpoint = await endpointRow(db, id);
  const message = messageOf({
    messageId: `msg_test_${crypto.randomUUID().replace(/-/g, "")}`,
    event: "test",
    payload: { type: "test", timestamp: now.toISOString(), data: { endpoint: endpoint.name, note: "A test from MAMcrawler" } },
  });
  const outcome = await sendTo(endpoint, message, pepper, now);
  return {
    endpoint_id: endpoint.id,
    message_id: message.id,
    delivered: outcome.ok,
    status: outcome.status,
    error: outcome.ok ? null : outcome.error,
  };
}
