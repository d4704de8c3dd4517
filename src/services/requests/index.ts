import { and, count, desc, eq, gte, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Config } from "../../config";
import { runBatch } from "../../db/batch";
import type { Database } from "../../db/client";
import { insertWhere } from "../../db/insert-where";
import { type BookRequest, bookRequests, missingBooks, OPEN_REQUEST_STATUSES } from "../../db/schema";
import { AppError, ConflictError, isUniqueViolation, NotFoundError, ValidationError } from "../../errors";
import type { AudibleCatalogue } from "../../integrations/audible";
import type { Actor } from "../../lib/actor";
import { type PageQuery, page } from "../../lib/pagination";
import { auditEntry } from "../audit";
import { enqueueNotification } from "../notifications";
import { requestJson } from "./json";
import { ownedCandidates, sameBook, wantedAlready } from "./match";
import { type RequestStatus, statusChange } from "./status";

export { type RequestJson, requestJson } from "./json";
export { searchCatalogue } from "./search";
export { type RequestStatus, settleRequests, statusChange } from "./status";

/**
 * Requests (README, "Requests: from a search to available"): anyone signed in asks for a book of
 * the Audible catalogue by its ASIN, within REQUESTS_PER_DAY in 24 hours; an operator or admin
 * approves or denies it (the roles in REQUESTS_AUTO_APPROVE are approved at once); an approved
 * request becomes a wanted book (`missing_books`, reason `request`) that ACQUIRE and QUEUE fetch
 * like any gap, and ./status.ts follows it to `available`.
 */

export type Role = "viewer" | "operator" | "admin";

/** Who asks, as the route establishes it. */
export interface Requester {
  actor: Actor;
  /** As audit rows write it ("user:ana"): the requester's key for a caller without a user. */
  name: string;
  userId: number | null;
  role: Role;
}

const isStaff = (who: Requester) => who.role !== "viewer";
/** A requester's own requests: a user's by id (kept across a rename), anyone else's by name. */
const ownedBy = (who: Requester): SQL =>
  who.userId !== null ? eq(bookRequests.requestedByUserId, who.userId) : eq(bookRequests.requestedBy, who.name);

export interface CreateInput {
  asin: string;
  again?: boolean | undefined;
  reason?: string | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function createRequest(
  db: Database,
  catalogue: AudibleCatalogue,
  config: Config,
  who: Requester,
  input: CreateInput,
  now = new Date(),
) {
  const asin = input.asin.toUpperCase();
  const again = input.again === true;
  if (again && !input.reason?.trim()) {
    throw new ValidationError([
      { path: "reason", message: "Say why the book is wanted again (a better edition, a broken copy)", code: "required" },
    ]);
  }
  const since = new Date(now.getTime() - DAY_MS).toISOString();
  const [[open], [made]] = await db.batch([
    db
      .select()
      .from(bookRequests)
      .where(and(eq(bookRequests.asin, asin), inArray(bookRequests.status, [...OPEN_REQUEST_STATUSES])))
      .limit(1),
    db
      .select({ n: count() })
      .from(bookRequests)
      .where(and(ownedBy(who), gte(bookRequests.createdAt, since))),
  ]);
  if (open) throw duplicate(open, who);
  if ((made?.n ?? 0) >= config.requests.perDay) {
    throw new AppError("too_many_requests", "Request limit reached", {
      detail: `At most ${config.requests.perDay} requests in 24 hours (REQUESTS_PER_DAY); ${made?.n} made since ${since}`,
    });
  }
  const product = await catalogue.product(asin);
  if (!product) throw new NotFoundError("Audible book", asin);
  const wanted = { asin, title: product.title, authors: product.authors };
  const owned = (await ownedCandidates(db, [wanted])).find((book) => sameBook(wanted, book));
  if (owned && !again) {
    throw new ConflictError(
      `"${product.title}" is already in the library (book ${owned.id}); to ask for it again, send again: true with a reason`,
    );
  }
  const first = product.series[0];
  let row: BookRequest;
  try {
    const [[inserted]] = await db.batch([
      db
        .insert(bookRequests)
        .values({
          asin,
          title: product.title,
          author: product.authors.join(", ") || null,
          seriesName: first?.title ?? null,
          seriesNumber: first?.sequence ?? null,
          releaseDate: product.releaseDate,
          requestedByUserId: who.userId,
          requestedBy: who.name,
          again,
          reason: input.reason?.trim() || null,
        })
        .returning(),
      auditEntry(db, who.actor, {
        action: "request.created",
        resource: "book_request",
        resourceId: requestIdOf(asin),
        details: { asin, title: product.title, again, ...(owned ? { owned_book_id: owned.id } : {}) },
      }),
      enqueueNotification(
        db,
        "request.created",
        { asin, title: product.title, author: product.authors.join(", "), requested_by: who.name, again },
        now,
        undefined,
        { request_id: requestIdOf(asin) },
      ),
    ]);
    row = inserted!;
  } catch (error) {
    // Two people asking at the same instant: the partial unique index lets one through.
    if (!isUniqueViolation(error, "book_requests")) throw error;
    const [other] = await db
      .select()
      .from(bookRequests)
      .where(and(eq(bookRequests.asin, asin), inArray(bookRequests.status, [...OPEN_REQUEST_STATUSES])));
    throw other ? duplicate(other, who) : error;
  }
  if (config.requests.autoApprove.includes(who.role)) {
    row = await decide(db, who, row.id, { approve: true, note: `approved at once (REQUESTS_AUTO_APPROVE includes ${who.role})` }, now);
  }
  return requestJson(row, { showRequester: true });
}

/**
 * A joined gap known only by its place ("Series #3") takes the request's title; any joined gap
 * without an ASIN or an author takes the request's (acquisition searches by title and author). A
 * title set by hand stays.
 */
function withRequestTitle(db: Database, gap: { id: number }, request: BookRequest, at: string) {
  const placeholder = sql`${missingBooks.titleSource} = 'library'`;
  return db
    .update(missingBooks)
    .set({
      title: sql`CASE WHEN ${placeholder} THEN ${request.title} ELSE ${missingBooks.title} END`,
      asin: sql`coalesce(${missingBooks.asin}, ${request.asin})`,
      authorName: sql`coalesce(${missingBooks.authorName}, ${request.author})`,
      titleSource: sql`CASE WHEN ${placeholder} THEN 'catalogue' ELSE ${missingBooks.titleSource} END`,
      titleCheckedAt: sql`CASE WHEN ${placeholder} THEN ${at} ELSE ${missingBooks.titleCheckedAt} END`,
    })
    .where(eq(missingBooks.id, gap.id));
}

/** The id of the request for `asin` inserted earlier in the same batch (one open request per ASIN). */
const requestIdOf = (asin: string) => sql`(SELECT max(id) FROM ${bookRequests} WHERE asin = ${asin})`;

function duplicate(open: BookRequest, who: Requester): ConflictError {
  const by = isStaff(who) ? ` by ${open.requestedBy}` : "";
  return new ConflictError(`"${open.title}" is already requested: request ${open.id} (${open.status})${by}`, "duplicate_resource", {
    request_id: open.id,
  });
}

/** One request: the requester's own, or any for operators and admins (another's is a 404, not a 403: its existence is not told). */
export async function getRequest(db: Database, who: Requester, id: number) {
  const [row] = await db
    .select()
    .from(bookRequests)
    .where(and(eq(bookRequests.id, id), isStaff(who) ? undefined : ownedBy(who)));
  if (!row) throw new NotFoundError("Request", id);
  return requestJson(row, { showRequester: true });
}

export interface ListFilter {
  status?: RequestStatus | undefined;
  /** Operators and admins: only their own. */
  mine?: boolean | undefined;
}

/** Newest first: a requester's own, or every request for operators and admins. */
export async function listRequests(db: Database, who: Requester, filter: ListFilter, paging: PageQuery) {
  const where = and(
    isStaff(who) && !filter.mine ? undefined : ownedBy(who),
    filter.status ? eq(bookRequests.status, filter.status) : undefined,
  );
  const [rows, [total]] = await db.batch([
    db.select().from(bookRequests).where(where).orderBy(desc(bookRequests.id)).limit(paging.limit).offset(paging.offset),
    db.select({ n: count() }).from(bookRequests).where(where),
  ]);
  return page(
    "requests",
    rows.map((row) => requestJson(row, { showRequester: true })),
    total?.n ?? 0,
    paging,
  );
}

export interface Decision {
  approve: boolean;
  note?: string | null | undefined;
}

/**
 * Approves or denies a pending request (operators and admins). Approval makes it a wanted book:
 * the open gap that already wants it when there is one (`wantedAlready`), else
 * a new `missing_books` row (reason `request`, the catalogue's title, priority 1), in the same batch
 * as the status change and its audit row.
 */
export async function decide(db: Database, who: Requester, id: number, decision: Decision, now = new Date()): Promise<BookRequest> {
  const [request] = await db.select().from(bookRequests).where(eq(bookRequests.id, id));
  if (!request) throw new NotFoundError("Request", id);
  if (request.status !== "pending") throw new ConflictError(`Request ${id} is ${request.status}, not pending: it was decided already`);
  const decided = { decidedBy: who.name, decidedAt: now.toISOString() };
  const note = decision.note?.trim() || null;
  if (!decision.approve) {
    await runBatch(db, statusChange(db, { request, to: "denied", by: who.actor, note, set: decided }));
  } else {
    const existing = await wantedAlready(db, request);
    // The approval first, then (only if it was written) the new wanted book and the link to it,
    // so two operators approving at once make one gap, not two.
    await runBatch(db, [
      ...statusChange(db, {
        request,
        to: "approved",
        by: who.actor,
        note,
        set: { ...decided, ...(existing ? { missingBookId: existing.id } : {}) },
        details: existing ? { joined_gap: existing.id } : {},
      }),
      ...(existing
        ? [withRequestTitle(db, existing, request, decided.decidedAt)]
        : [
            insertWhere(
              db,
              missingBooks,
              {
                title: request.title,
                authorName: request.author,
                seriesName: request.seriesName,
                seriesNumber: request.seriesNumber,
                reasonMissing: "request",
                asin: request.asin,
                priority: 1,
                titleSource: "catalogue",
                titleCheckedAt: decided.decidedAt,
                releaseDate: request.releaseDate,
              },
              bookRequests,
              // This approval was written (its stamp), and no wanted book is linked yet.
              and(
                eq(bookRequests.id, id),
                eq(bookRequests.status, "approved"),
                eq(bookRequests.decidedAt, decided.decidedAt),
                eq(bookRequests.decidedBy, decided.decidedBy),
                isNull(bookRequests.missingBookId),
              )!,
            ),
            db
              .update(bookRequests)
              .set({
                missingBookId: sql`(SELECT max(id) FROM ${missingBooks} WHERE asin = ${request.asin} AND reason_missing = 'request')`,
              })
              .where(and(eq(bookRequests.id, id), eq(bookRequests.decidedAt, decided.decidedAt), isNull(bookRequests.missingBookId))),
          ]),
    ]);
  }
  const [after] = await db.select().from(bookRequests).where(eq(bookRequests.id, id));
  // Another operator's decision landed between the read and the write: theirs stands, nothing of ours was written.
  const mine = after!.status === (decision.approve ? "approved" : "denied") && after!.decidedBy === decided.decidedBy;
  if (!mine || after!.decidedAt !== decided.decidedAt) {
    throw new ConflictError(`Request ${id} was decided meanwhile (${after!.status} by ${after!.decidedBy})`);
  }
  return after!;
}
