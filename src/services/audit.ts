import { and, count, desc, eq, is, SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Identity } from "../context";
import type { Database } from "../db/client";
import { insertWhere } from "../db/insert-where";
import { type AuditLog, auditLogs } from "../db/schema";
import { type Actor, actorOf } from "../lib/actor";
import type { PageQuery } from "../lib/pagination";

export interface AuditEvent {
  action: string;
  resource: string;
  /** SQL for a row created in the same batch, e.g. its id looked up by a unique name. */
  resourceId?: string | number | SQL | null;
  details?: Record<string, unknown>;
  /** Who acted, when it is not the request's identity (a login is audited before one exists). */
  identity?: Identity;
}

/**
 * The audit row of one action, as a query to put in the same `db.batch` as the change itself,
 * so there is never a change without its row (or a row without its change).
 */
export function auditEntry(db: Database, actor: Actor, event: AuditEvent) {
  return db.insert(auditLogs).values(auditRow(actor, event));
}

/**
 * The audit row of a change that may not happen: written only when `condition` holds at its
 * place in the batch, e.g. `changes() > 0` right after the guarded UPDATE it reports
 * (src/db/insert-where.ts), so a change a concurrent one forestalled leaves no row either.
 */
export function auditEntryWhere(db: Database, actor: Actor, event: AuditEvent, from: SQLiteTable, condition: SQLWrapper) {
  return insertWhere(db, auditLogs, auditRow(actor, event), from, condition);
}

function auditRow(actor: Actor, event: AuditEvent) {
  const identity = event.identity ?? actor.identity;
  return {
    userId: identity?.kind === "user" ? identity.userId : null,
    username: identity?.kind === "user" ? identity.username : null,
    actor: actorOf(identity),
    action: event.action,
    resource: event.resource,
    resourceId:
      event.resourceId == null ? null : is(event.resourceId, SQL) ? sql`CAST((${event.resourceId}) AS TEXT)` : String(event.resourceId),
    details: event.details ?? {},
    ipAddress: actor.ip.slice(0, 45),
    userAgent: actor.userAgent?.slice(0, 500) ?? null,
  };
}

export interface AuditFilter {
  user_id?: number | undefined;
  action?: string | undefined;
  resource?: string | undefined;
}

export function auditLogJson(row: AuditLog) {
  return {
    id: row.id,
    user_id: row.userId,
    username: row.username,
    actor: row.actor,
    action: row.action,
    resource: row.resource,
    resource_id: row.resourceId,
    details: row.details,
    ip_address: row.ipAddress,
    user_agent: row.userAgent,
    timestamp: row.timestamp,
  };
}

/** Newest first, filtered by user, action and resource. */
export async function listAuditLogs(db: Database, filter: AuditFilter, paging: PageQuery) {
  const conditions: SQL[] = [];
  if (filter.user_id !== undefined) conditions.push(eq(auditLogs.userId, filter.user_id));
  if (filter.action) conditions.push(eq(auditLogs.action, filter.action));
  if (filter.resource) conditions.push(eq(auditLogs.resource, filter.resource));
  const where = conditions.length ? and(...conditions) : undefined;
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(auditLogs)
      .where(where)
      .orderBy(desc(auditLogs.timestamp), desc(auditLogs.id))
      .limit(paging.limit)
      .offset(paging.offset),
    db.select({ n: count() }).from(auditLogs).where(where),
  ]);
  return { rows: rows.map(auditLogJson), total: total?.n ?? 0 };
}
