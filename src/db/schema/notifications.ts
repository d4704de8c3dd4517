import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestampNow, updatedAt } from "./columns";

// Notifications (src/services/notifications/): the endpoints admins register, and one delivery
// row per event per subscribed endpoint, sent by the dispatcher after each tick's tasks.

export const NOTIFICATION_KINDS = ["webhook", "discord", "ntfy"] as const;
export const NOTIFICATION_EVENTS = [
  "request.created",
  "request.approved",
  "request.denied",
  "request.available",
  "request.failed",
  "download.failed",
  "download.abandoned",
  "task.failed",
  "limiter.degraded",
  "database.degraded",
] as const;
/** pending (due at next_attempt_at), delivered, or failed for good (the attempts ran out). */
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

export const notificationEndpoints = sqliteTable("notification_endpoints", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  kind: text("kind", { enum: NOTIFICATION_KINDS }).notNull(),
  // The URL (a Discord URL holds its token) and the secret (webhook signing secret, ntfy token)
  // are AES-GCM sealed (src/services/notifications/seal.ts); only the masked URL is readable.
  urlSealed: text("url_sealed").notNull(),
  urlMasked: text("url_masked").notNull(),
  secretSealed: text("secret_sealed"),
  /** The events this endpoint is sent, a JSON list of NOTIFICATION_EVENTS. */
  events: text("events", { mode: "json" }).$type<string[]>().notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdBy: text("created_by").notNull(),
  createdAt: timestampNow("created_at"),
  updatedAt: updatedAt("updated_at"),
});

export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    endpointId: integer("endpoint_id")
      .notNull()
      .references(() => notificationEndpoints.id, { onDelete: "cascade" }),
    /** The Standard Webhooks `webhook-id`: the same on every attempt, so a receiver can drop repeats. */
    messageId: text("message_id").notNull(),
    event: text("event").notNull(),
    /** `{ type, timestamp, data }` as the generic webhook's body carries it. */
    payload: text("payload", { mode: "json" }).$type<{ type: string; timestamp: string; data: Record<string, unknown> }>().notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: text("next_attempt_at"),
    lastAttemptAt: text("last_attempt_at"),
    /** The endpoint's last HTTP status, when it answered. */
    lastStatus: integer("last_status"),
    /** Why the last attempt failed, clipped; never a URL, a secret or what the endpoint sent. */
    lastError: text("last_error"),
    deliveredAt: text("delivered_at"),
    createdAt: timestampNow("created_at"),
  },
  (t) => [
    // the dispatcher: the due ones, oldest first
    index("notification_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    // the delivery log: an endpoint's, newest first
    index("notification_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
    index("notification_deliveries_created_idx").on(t.createdAt),
  ],
);

export type NotificationEndpoint = typeof notificationEndpoints.$inferSelect;
export type NotificationDelivery = typeof notificationDeliveries.$inferSelect;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

// The last state seen of what the dispatcher probes each tick (src/services/notifications/health-watch.ts):
// a change of state is told once (limiter.degraded, database.degraded).
export const HEALTH_COMPONENTS = ["limiter", "database"] as const;
export const healthStates = sqliteTable("health_states", {
  name: text("name", { enum: HEALTH_COMPONENTS }).primaryKey(),
  status: text("status", { enum: ["ok", "degraded"] }).notNull(),
  /** When this state began. */
  since: text("since").notNull(),
  detail: text("detail"),
});
