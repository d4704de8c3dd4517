import type { DOWNLOAD_STATUSES, GAP_DOWNLOAD_STATUSES } from "../db/schema";
import { ConflictError } from "../errors";

/**
 * The download queue's state machine: the one place that says which
 * move is allowed from which status. The routes name the actions; the service applies their side
 * effects (timestamps, counters) only after `assertTransition` has said yes.
 *
 * queued and downloading are in flight: any move is allowed, except `retry` of a download that is
 * downloading (fail it first). failed waits for a retry: it may be re-queued, failed again (each
 * mark-failed counts an attempt) or given up, but it cannot start or finish without being queued
 * again. completed and abandoned are settled: only `retry` takes them back to queued (setting the
 * status they already have is allowed, and changes only last_attempt and the qBittorrent fields).
 */

export type DownloadStatus = (typeof DOWNLOAD_STATUSES)[number];
export type DownloadAction = "status" | "mark-complete" | "mark-failed" | "retry";

/** from → action → the statuses that action may lead to. A missing action is refused (409). */
export const TRANSITIONS: Record<DownloadStatus, Partial<Record<DownloadAction, readonly DownloadStatus[]>>> = {
  queued: {
    status: ["queued", "downloading", "completed", "failed", "abandoned"],
    "mark-complete": ["completed"],
    "mark-failed": ["failed", "abandoned"],
    retry: ["queued"],
  },
  downloading: {
    status: ["queued", "downloading", "completed", "failed", "abandoned"],
    "mark-complete": ["completed"],
    "mark-failed": ["failed", "abandoned"],
  },
  failed: {
    status: ["queued", "failed", "abandoned"],
    "mark-failed": ["failed", "abandoned"],
    retry: ["queued"],
  },
  completed: {
    status: ["completed"],
    // again, to record the Audiobookshelf import result
    "mark-complete": ["completed"],
    retry: ["queued"],
  },
  abandoned: {
    status: ["abandoned"],
    retry: ["queued"],
  },
};

/**
 * Statuses in which a download still holds its magnet link or torrent URL: queuing the same one
 * again is a duplicate. A failed download is waiting for its retry, so it counts.
 */
export const ACTIVE_STATUSES: readonly DownloadStatus[] = ["queued", "downloading", "failed"];

/** Retrying from these starts a new round of attempts (retry_count back to 0). */
export const FRESH_ROUND_FROM: readonly DownloadStatus[] = ["completed", "abandoned"];

/** The gap (missing_books.download_status) that follows a download in each status. */
export const GAP_STATUS_OF: Record<DownloadStatus, (typeof GAP_DOWNLOAD_STATUSES)[number]> = {
  queued: "queued",
  downloading: "downloading",
  completed: "completed",
  failed: "failed",
  abandoned: "failed",
};

function describeAction(action: DownloadAction, to?: DownloadStatus): string {
  return action === "status" ? `status ${to}` : action;
}

/** What may be done from `from`, for the refusal's detail. */
export function allowedActions(from: DownloadStatus): string[] {
  return Object.entries(TRANSITIONS[from]).flatMap(([action, targets]) =>
    action === "status" ? targets!.map((to) => `status ${to}`) : [action],
  );
}

export function canTransition(from: DownloadStatus, action: DownloadAction, to?: DownloadStatus): boolean {
  const targets = TRANSITIONS[from][action];
  if (!targets) return false;
  return to === undefined || targets.includes(to);
}

/** Every status from which `action` (to `to`) is allowed. */
export function sourcesOf(action: DownloadAction, to?: DownloadStatus): DownloadStatus[] {
  return (Object.keys(TRANSITIONS) as DownloadStatus[]).filter((from) => canTransition(from, action, to));
}

/** Refuses a move the table does not allow with 409 `conflict`, saying what is allowed instead. */
export function assertTransition(id: number, from: DownloadStatus, action: DownloadAction, to?: DownloadStatus): void {
  if (canTransition(from, action, to)) return;
  const allowed = allowedActions(from);
  throw new ConflictError(
    `Download ${id} is ${from}: ${describeAction(action, to)} is not allowed (allowed: ${allowed.join(", ")})`,
    "conflict",
    {
      download_id: id,
      from,
      action,
      to: to ?? null,
      allowed,
    },
  );
}
