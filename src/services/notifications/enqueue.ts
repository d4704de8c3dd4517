import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type NotificationEvent, notificationDeliveries, notificationEndpoints } from "../../db/schema";

/**
 * The one way anything notifies: a delivery row per event per enabled endpoint that chose the
 * event, written in one statement whatever the number of events and endpoints. Nothing is sent
 * here: the dispatcher (./deliver.ts) sends the due rows, so a dead endpoint never slows the
 * request or the task that noticed the event. Returns the statement, to run alone or to put in
 * the `db.batch` of the change it reports (then the event exists exactly when the change does).
 */

export interface NotificationInput {
  event: NotificationEvent;
  /** What happened, as plain JSON: ids, titles, reasons. Never a secret. */
  data: Record<string, unknown>;
}

export function enqueueNotifications(
  db: Database,
  events: readonly NotificationInput[],
  now = new Date(),
  only?: SQL,
  /** Data known only when the statement runs (the id of a row inserted earlier in the same batch), set in every event's data. */
  dataWhenRun: Record<string, SQL> = {},
) {
  const timestamp = now.toISOString();
  const list = JSON.stringify(events.map(({ event, data }) => ({ event, payload: { type: event, timestamp, data } })));
  const e = notificationEndpoints;
  const payload = Object.entries(dataWhenRun).reduce(
    (json, [key, value]) => sql`json_set(${json}, ${`$.data.${key}`}, ${value})`,
    sql`json_extract(ev.value, '$.payload')`,
  );
  // Every column in the table's order (drizzle's INSERT ... SELECT names them all).
  return db.insert(notificationDeliveries).select(
    sql`SELECT NULL, ${e.id}, 'msg_' || lower(hex(randomblob(16))), json_extract(ev.value, '$.event'), ${payload},
      'pending', 0, ${timestamp}, NULL, NULL, NULL, NULL, ${timestamp}
    FROM json_each(${list}) AS ev JOIN ${e} ON ${e.enabled} = 1
      AND EXISTS (SELECT 1 FROM json_each(${e.events}) WHERE value = json_extract(ev.value, '$.event'))
      ${only ? sql`WHERE ${only}` : sql``}`,
  );
}

/**
 * One event: `enqueueNotifications` with a list of one. `only`, a condition checked when the
 * statement runs, tells the event only when it holds: in the batch of a conditional change, "the
 * change was written" (e.g. `EXISTS (SELECT 1 FROM t WHERE id = ? AND status = 'new')`).
 */
export function enqueueNotification(
  db: Database,
  event: NotificationEvent,
  data: Record<string, unknown>,
  now = new Date(),
  only?: SQL,
  dataWhenRun?: Record<string, SQL>,
) {
  return enqueueNotifications(db, [{ event, data }], now, only, dataWhenRun);
}
