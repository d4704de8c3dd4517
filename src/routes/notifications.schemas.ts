import { z } from "zod";
import { DELIVERY_STATUSES, NOTIFICATION_EVENTS, NOTIFICATION_KINDS } from "../db/schema";
import { pageQuery } from "../lib/pagination";
import { decimalInt } from "../lib/validate";
import { timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

// The requests and answers of /api/admin/notifications (src/services/notifications/).

const name = z.string().trim().min(1).max(100);
const url = z.string().trim().min(1).max(2048).meta({ description: "https in production; no credentials in it" });
const events = z
  .array(z.enum(NOTIFICATION_EVENTS))
  .min(1)
  .max(NOTIFICATION_EVENTS.length * 2)
  .meta({ description: "The events this endpoint is sent" });
const token = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, "printable characters without spaces only")
  .meta({ description: "ntfy only: an access token for a protected topic (stored encrypted, never answered)" });

export const endpointBody = z.strictObject({
  name,
  kind: z.enum(NOTIFICATION_KINDS),
  url,
  events,
  enabled: z.boolean().optional(),
  token: token.optional(),
});
export const endpointChangesBody = z
  .strictObject({
    name: name.optional(),
    url: url.optional(),
    events: events.optional(),
    enabled: z.boolean().optional(),
    token: token.nullable().optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), "send at least one of name, url, events, enabled, token");
export const deliveryQuery = pageQuery.extend({
  endpoint_id: decimalInt(z.number().positive()).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
});

/** An endpoint as answered: its URL masked, never its secret. */
export const endpointSchema = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(NOTIFICATION_KINDS),
    url: z.string().meta({ description: "Masked: a Discord token, most of an ntfy topic and any query are hidden" }),
    events: z.array(z.enum(NOTIFICATION_EVENTS)),
    enabled: z.boolean(),
    has_secret: z.boolean().meta({ description: "A webhook's signing secret or an ntfy token is stored" }),
    created_by: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "NotificationEndpoint" });

export const endpointPage = pageOf("endpoints", endpointSchema);
export const endpointAnswer = z.strictObject({ endpoint: endpointSchema });
export const endpointCreated = z.strictObject({
  endpoint: endpointSchema.extend({
    secret: z
      .string()
      .optional()
      .meta({ description: "webhook only: the signing secret (whsec_...), shown this once; verify `webhook-signature` with it" }),
  }),
});

export const deliverySchema = z
  .strictObject({
    id: z.number().int(),
    endpoint_id: z.number().int(),
    event: z.string(),
    message_id: z.string().meta({ description: "The `webhook-id` header: the same on every attempt" }),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: timestamp.nullable(),
    last_attempt_at: timestamp.nullable(),
    last_status: z.number().int().nullable().meta({ description: "The endpoint's last HTTP status" }),
    last_error: z.string().nullable(),
    delivered_at: timestamp.nullable(),
    created_at: timestamp,
    payload: z.strictObject({ type: z.string(), timestamp, data: z.record(z.string(), z.unknown()) }),
  })
  .meta({ id: "NotificationDelivery" });
export const deliveryPage = pageOf("deliveries", deliverySchema);

export const testResult = z.strictObject({
  endpoint_id: z.number().int(),
  message_id: z.string(),
  delivered: z.boolean(),
  status: z.number().int().nullable().meta({ description: "The endpoint's HTTP status, or null when it did not answer" }),
  error: z.string().nullable(),
});
