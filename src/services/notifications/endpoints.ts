import { count, desc, eq, sql } from "drizzle-orm";
import { type Config, requireSecret } from "../../config";
import type { Database } from "../../db/client";
import { type NotificationEndpoint, type NotificationEvent, type NotificationKind, notificationEndpoints } from "../../db/schema";
import { NotFoundError, ValidationError } from "../../errors";
import { newWebhookSecret } from "../../integrations/webhook";
import { type Actor, actorOf } from "../../lib/actor";
import type { PageQuery } from "../../lib/pagination";
import { auditEntry } from "../audit";
import { seal } from "./seal";
import { checkedUrl, maskedUrl } from "./url";

// The endpoints admins register (routes/notifications.ts): created, listed, changed, deleted.
// A secret is answered once (the webhook's signing secret, at creation) and never again.

export interface EndpointInput {
  name: string;
  kind: NotificationKind;
  url: string;
  events: NotificationEvent[];
  enabled?: boolean | undefined;
  /** An ntfy access token (tk_...), for a protected topic. */
  token?: string | undefined;
}

export interface EndpointChange {
  name?: string | undefined;
  url?: string | undefined;
  events?: NotificationEvent[] | undefined;
  enabled?: boolean | undefined;
  /** A new ntfy token, or null to remove it. */
  token?: string | null | undefined;
}

/** An endpoint as answered: its URL masked, whether it has a secret, never the secret. */
export function endpointJson(row: NotificationEndpoint) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    url: row.urlMasked,
    events: row.events as NotificationEvent[],
    enabled: row.enabled,
    has_secret: row.secretSealed !== null,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function tokenOnlyForNtfy(kind: NotificationKind, token: string | null | undefined) {
  if (token && kind !== "ntfy")
    throw new ValidationError([{ path: "body.token", message: "is only for ntfy endpoints", code: "not_applicable" }]);
}

export async function createEndpoint(db: Database, config: Config, actor: Actor, input: EndpointInput) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  tokenOnlyForNtfy(input.kind, input.token);
  const url = checkedUrl(input.kind, input.url, config.isProduction);
  const secret = input.kind === "webhook" ? newWebhookSecret() : (input.token ?? null);
  const urlSealed = await seal(pepper, url.href);
  const values = {
    name: input.name,
    kind: input.kind,
    urlSealed,
    urlMasked: maskedUrl(input.kind, url),
    secretSealed: secret ? await seal(pepper, secret) : null,
    events: [...new Set(input.events)],
    enabled: input.enabled ?? true,
    createdBy: actorOf(actor.identity),
  };
  const e = notificationEndpoints;
  const [[row]] = await db.batch([
    db.insert(e).values(values).returning(),
    auditEntry(db, actor, {
      action: "create",
      resource: "notification_endpoint",
      // The sealed URL has a fresh IV: it names this row alone.
      resourceId: sql`SELECT ${e.id} FROM ${e} WHERE ${e.urlSealed} = ${urlSealed}`,
      details: { name: values.name, kind: values.kind, url: values.urlMasked, events: values.events },
    }),
  ]);
  if (!row) throw new Error("insert returned no row");
  return { ...endpointJson(row), ...(input.kind === "webhook" ? { secret: secret as string } : {}) };
}

export async function listEndpoints(db: Database, paging: PageQuery) {
  const [rows, [total]] = await db.batch([
    db.select().from(notificationEndpoints).orderBy(desc(notificationEndpoints.id)).limit(paging.limit).offset(paging.offset),
    db.select({ n: count() }).from(notificationEndpoints),
  ]);
  return { rows: rows.map(endpointJson), total: total?.n ?? 0 };
}

export async function endpointRow(db: Database, id: number): Promise<NotificationEndpoint> {
  const row = await db.query.notificationEndpoints.findFirst({ where: eq(notificationEndpoints.id, id) });
  if (!row) throw new NotFoundError("Notification endpoint", id);
  return row;
}

export async function updateEndpoint(db: Database, config: Config, actor: Actor, id: number, change: EndpointChange) {
  const pepper = requireSecret(config, "PASSWORD_SALT");
  const row = await endpointRow(db, id);
  tokenOnlyForNtfy(row.kind, change.token);
  const url = change.url === undefined ? undefined : checkedUrl(row.kind, change.url, config.isProduction);
  const set = {
    ...(change.name !== undefined ? { name: change.name } : {}),
    ...(change.events !== undefined ? { events: [...new Set(change.events)] } : {}),
    ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
    ...(url ? { urlSealed: await seal(pepper, url.href), urlMasked: maskedUrl(row.kind, url) } : {}),
    ...(change.token !== undefined ? { secretSealed: change.token ? await seal(pepper, change.token) : null } : {}),
    updatedAt: new Date().toISOString(),
  };
  const [[updated]] = await db.batch([
    db.update(notificationEndpoints).set(set).where(eq(notificationEndpoints.id, id)).returning(),
    auditEntry(db, actor, {
      action: "update",
      resource: "notification_endpoint",
      resourceId: id,
      // What changed, by name; a new URL masked, a token only as "changed".
      details: {
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.events !== undefined ? { events: change.events } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(url ? { url: set.urlMasked } : {}),
        ...(change.token !== undefined ? { token: change.token ? "changed" : "removed" } : {}),
      },
    }),
  ]);
  if (!updated) throw new NotFoundError("Notification endpoint", id);
  return endpointJson(updated);
}

/** Deletes the endpoint and its delivery log (ON DELETE CASCADE). */
export async function deleteEndpoint(db: Database, actor: Actor, id: number) {
  const row = await endpointRow(db, id);
  await db.batch([
    db.delete(notificationEndpoints).where(eq(notificationEndpoints.id, id)),
    auditEntry(db, actor, {
      action: "delete",
      resource: "notification_endpoint",
      resourceId: id,
      details: { name: row.name, kind: row.kind, url: row.urlMasked },
    }),
  ]);
  return endpointJson(row);
}
