/**
 * What each qBittorrent torrent state means for a download in `downloading`, the one
 * table the QUEUE task reads. States are qBittorrent Web API v2's, old names
 * (pausedUP/pausedDL, before 5.0) and new (stoppedUP/stoppedDL) alike.
 */

export type QueueVerdict =
  /** Fully downloaded (seeding, queued to seed, checking or stopped after finishing). */
  | "completed"
  /** Broken: the mark-failed path. */
  | "failed"
  /** No peers: fails once it has been so for QB_STALL_MINUTES. */
  | "stalled"
  /** Still on its way (or paused by hand): left alone, progress stored. */
  | "active";

export const QB_STATES = [
  "error",
  "missingFiles",
  "uploading",
  "pausedUP",
  "stoppedUP",
  "queuedUP",
  "stalledUP",
  "checkingUP",
  "forcedUP",
  "allocating",
  "downloading",
  "metaDL",
  "forcedMetaDL",
  "pausedDL",
  "stoppedDL",
  "queuedDL",
  "stalledDL",
  "checkingDL",
  "forcedDL",
  "checkingResumeData",
  "moving",
  "unknown",
] as const;
export type QbState = (typeof QB_STATES)[number];

export const STATE_VERDICTS: Record<QbState, QueueVerdict> = {
  error: "failed",
  missingFiles: "failed",
  uploading: "completed",
  pausedUP: "completed",
  stoppedUP: "completed",
  queuedUP: "completed",
  stalledUP: "completed",
  checkingUP: "completed",
  forcedUP: "completed",
  stalledDL: "stalled",
  allocating: "active",
  downloading: "active",
  metaDL: "active",
  forcedMetaDL: "active",
  pausedDL: "active",
  stoppedDL: "active",
  queuedDL: "active",
  checkingDL: "active",
  forcedDL: "active",
  checkingResumeData: "active",
  moving: "active",
  unknown: "active",
};

/** A state this table does not know (a newer qBittorrent) is treated as still active. */
export function verdictOf(state: string): QueueVerdict {
  return (STATE_VERDICTS as Record<string, QueueVerdict | undefined>)[state] ?? "active";
}
