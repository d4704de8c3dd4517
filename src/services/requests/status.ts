import { and, eq, inArray, sql } from "drizzle-orm";
import { runBatch, type Statement } from "../../db/batch";
import type { Database } from "../../db/client";
import { type BookRequest, bookRequests, downloads, missingBooks, type NewBookRequest, type REQUEST_STATUSES } from "../../db/schema";
import type { Actor } from "../../lib/actor";
import { auditEntryWhere } from "../audit";
import { enqueueNotification } from "../notifications";
import { ownedCandidates, sameBook } from "./match";

export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The loop's changes (searching, downloading, available, failed) are the system's: no request behind them. */
export const SYSTEM: Actor = { identity: undefined, ip: "internal", userAgent: null };

export interface StatusChange {
  request: Pick<BookRequest, "id" | "asin" | "title" | "status">;
  to: RequestStatus;
  by: Actor;
  /** The operator's note on approval or denial. */
  note?: string | null;
  /** Other columns written with the status (the wanted book, the library book, who decided). */
  set?: Partial<NewBookRequest>;
  /** Said in the audit row. */
  details?: Record<string, unknown>;
}

/** Right after a statement of a batch: whether it changed a row (the batch runs in order, in one transaction). */
export const CHANGED = sql`changes() > 0`;

/**
 * Every change of a request's status goes through here, and only here: the row written only if it
 * is still in the state it was read in, then its audit row (`request.<status>`) only if it was
 * (a concurrent change that won leaves no row), as statements for one `db.batch` with whatever else
 * the change writes (which checks the change itself, not CHANGED, since it follows other statements),
 * and its notification (`request.approved`, `request.denied`, `request.available`,
 * `request.failed`; `request.created` is queued beside the insert in ./index.ts).
 */
export function statusChange(db: Database, change: StatusChange): Statement[] {
  const { request, to } = change;
  const from = request.status;
  return [
    db
      .update(bookRequests)
      .set({ ...change.set, status: to, ...(change.note !== undefined ? { decisionNote: change.note } : {}) })
      .where(and(eq(bookRequests.id, request.id), eq(bookRequests.status, from))),
    auditEntryWhere(
      db,
      change.by,
      {
        action: `request.${to}`,
        resource: "book_request",
        resourceId: request.id,
        details: { asin: request.asin, title: request.title, from, to, ...(change.note ? { note: change.note } : {}), ...change.details },
      },
      bookRequests,
      and(eq(bookRequests.id, request.id), CHANGED)!,
    ),
    // Told to the endpoints that chose it, only when the audit row above was written (the change happened).
    ...(isNotified(to)
      ? [
          enqueueNotification(
            db,
            `request.${to}`,
            {
              request_id: request.id,
              asin: request.asin,
              title: request.title,
              from,
              status: to,
              ...(change.note ? { note: change.note } : {}),
            },
            undefined,
            CHANGED,
          ),
        ]
      : []),
  ];
}

const NOTIFIED = ["approved", "denied", "available", "failed"] as const;
const isNotified = (status: RequestStatus): status is (typeof NOTIFIED)[number] => (NOTIFIED as readonly string[]).includes(status);

/** Requests the loop follows: approved and on their way, or failed (a later search may still find one). */
const FOLLOWED = ["approved", "searching", "downloading", "failed"] as const;
/** Requests settled per call: far beyond a household's. */
const SETTLED_PER_RUN = 200;

/**
 * Brings approved requests in line with their wanted book, after each acquisition run (the route's
 * or ACQUIRE's) and each library sync; not after QUEUE, which runs every tick within the Free plan's
 * 50 queries (test/scheduler/free-plan.test.ts): an abandoned download shows as `failed` at the next
 * ACQUIRE or sync instead: `available` when an owned library book is the requested one (its ASIN, else its
 * title and author; for a request made `again`, only a book added after the request), and the
 * wanted book is then resolved; else `downloading` while its download is queued, running or done,
 * `failed` when its download was abandoned, and `searching` once acquisition has looked for it
 * (`searched`). One read when nothing is followed; two reads and one batch otherwise.
 */
export async function settleRequests(db: Database, { searched = false } = {}): Promise<{ changed: number }> {
  const rows = await db
    .select({ request: bookRequests, gapStatus: missingBooks.downloadStatus, downloadStatus: downloads.status })
    .from(bookRequests)
    .leftJoin(missingBooks, eq(missingBooks.id, bookRequests.missingBookId))
    .leftJoin(downloads, eq(downloads.id, missingBooks.downloadId))
    .where(inArray(bookRequests.status, [...FOLLOWED]))
    .orderBy(bookRequests.id)
    .limit(SETTLED_PER_RUN);
  if (rows.length === 0) return { changed: 0 };
  const wanted = rows.map(({ request }) => ({ asin: request.asin, title: request.title, authors: (request.author ?? "").split(", ") }));
  const owned = await ownedCandidates(db, wanted);
  const statements: Statement[] = [];
  let changed = 0;
  rows.forEach(({ request, gapStatus, downloadStatus }, i) => {
    const book = owned.find((b) => sameBook(wanted[i]!, b) && (!request.again || b.dateAdded > request.createdAt));
    if (book) {
      changed++;
      statements.push(
        ...statusChange(db, { request, to: "available", by: SYSTEM, set: { bookId: book.id }, details: { book_id: book.id } }),
      );
      if (request.missingBookId !== null) {
        statements.push(
          db
            .update(missingBooks)
            .set({ bookId: book.id, downloadStatus: "completed" })
            .where(
              and(
                eq(missingBooks.id, request.missingBookId),
                sql`EXISTS (SELECT 1 FROM ${bookRequests} WHERE id = ${request.id} AND status = 'available')`,
              ),
            ),
        );
      }
      return;
    }
    const to = followed(request.status, gapStatus, downloadStatus, searched);
    if (to === request.status) return;
    changed++;
    statements.push(...statusChange(db, { request, to, by: SYSTEM, details: { download_status: downloadStatus } }));
  });
  if (statements.length > 0) await runBatch(db, statements);
  return { changed };
}

/** Where a request stands by its wanted book's download. */
function followed(status: RequestStatus, gapStatus: string | null, downloadStatus: string | null, searched: boolean): RequestStatus {
  if (downloadStatus === "abandoned") return "failed";
  if (downloadStatus !== null && downloadStatus !== "failed") return "downloading";
  if (gapStatus === null) return status;
  if (status === "approved" && searched) return "searching";
  return status;
}
