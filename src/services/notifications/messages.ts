import type { NotificationDelivery } from "../../db/schema";
import type { NotifyMessage } from "../../integrations/notify";

// An event as people read it (Discord's embed, ntfy's title and text): one line, a few details.

const TITLES: Record<string, string> = {
  "request.created": "Book requested",
  "request.approved": "Request approved",
  "request.denied": "Request denied",
  "request.available": "Requested book available",
  "request.failed": "Request failed",
  "download.failed": "Download failed (will retry)",
  "download.abandoned": "Download abandoned",
  "task.failed": "Scheduled task failed",
  "limiter.degraded": "Rate limiter degraded",
  "database.degraded": "Database degraded",
  test: "Test notification",
};

/** limiter.degraded and database.degraded also tell the recovery (`data.state: "recovered"`). */
const RECOVERED: Record<string, string> = { "limiter.degraded": "Rate limiter recovered", "database.degraded": "Database recovered" };

/** ntfy's 1-5: failures that need someone are high (4), the rest default (3). */
const PRIORITIES: Record<string, number> = {
  "download.abandoned": 4,
  "task.failed": 4,
  "limiter.degraded": 4,
  "database.degraded": 5,
  "request.failed": 4,
  test: 2,
};

/** The data's plain values, one `key: value` line each (nested values as JSON), at most 20 lines. */
function lines(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, value]) => value !== null && value !== undefined)
    .slice(0, 20)
    .map(([key, value]) => `${key.replace(/_/g, " ")}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join("\n");
}

export function messageOf(delivery: Pick<NotificationDelivery, "messageId" | "event" | "payload">): NotifyMessage {
  const { payload } = delivery;
  const data = payload.data ?? {};
  const name = typeof data.title === "string" ? data.title : typeof data.task === "string" ? data.task : undefined;
  const recovered = data.state === "recovered";
  const label = recovered ? (RECOVERED[delivery.event] ?? delivery.event) : (TITLES[delivery.event] ?? delivery.event);
  const title = `${label}${name ? `: ${name}` : ""}`;
  return {
    id: delivery.messageId,
    type: delivery.event,
    timestamp: payload.timestamp,
    data,
    title,
    text: lines(data) || title,
    priority: recovered ? 3 : (PRIORITIES[delivery.event] ?? 3),
  };
}
