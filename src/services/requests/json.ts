import type { BookRequest } from "../../db/schema";

/** What a caller may see of a request: who asked only for operators and admins, or for the requester. */
export function requestJson(row: BookRequest, { showRequester }: { showRequester: boolean }) {
  return {
    id: row.id,
    asin: row.asin,
    title: row.title,
    author: row.author,
    series: row.seriesName,
    series_number: row.seriesNumber,
    release_date: row.releaseDate,
    status: row.status,
    again: row.again,
    reason: row.reason,
    requested_by: showRequester ? row.requestedBy : null,
    decided_by: showRequester ? row.decidedBy : null,
    decision_note: row.decisionNote,
    decided_at: row.decidedAt,
    missing_book_id: row.missingBookId,
    book_id: row.bookId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

export type RequestJson = ReturnType<typeof requestJson>;
