import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { downloads, tasks } from "../../db/schema";
import { AppError } from "../../errors";
import { qbittorrent } from "../../integrations/qbittorrent";
import { TaskError } from "../../lib/failure";
import type { TaskContext, TaskOutcome } from "../../scheduler/tasks";
import { d1LoginRefusals } from "../login-refusals";
import { type PollReport, poll } from "./poll";
import { type SendReport, send } from "./send";
import { isDownloading } from "./status";

/**
 * The QUEUE task (./poll.ts, ./send.ts): poll qBittorrent for the downloads in `downloading`,
 * then send the queued ones that are due while fewer than QB_MAX_ACTIVE are downloading
 * (QUEUE_SENDS_PER_RUN a run at most).
 *
 * Nothing is lost or half-moved: every write is conditional on the status it was decided from
 * (a concurrent run or a request that moved the download meanwhile wins), a download reaches
 * `downloading` only after qBittorrent accepted it, and a download being sent is claimed first
 * (qbittorrent_status `sending`, one statement that also checks the active limit), so two runs at
 * once never add the same one. A run that stops after adding and before recording leaves the claim
 * to expire; the next run finds the torrent already in qBittorrent (by hash or by the download's
 * tag) and records it instead of adding it again.
 */

export { poll } from "./poll";
export { QUEUE_SENDS_PER_RUN, send } from "./send";

/** Asks Audiobookshelf to scan for what completed (wired in src/scheduler/tasks.ts). */
export type LibraryScan = (config: Config) => Promise<unknown>;

/**
 * One QUEUE run: poll, scan when something completed, send. A poll that fails writes nothing; a
 * send that fails leaves its download queued. Either way the run fails with what it did so far in
 * its metadata (the poll's figures stay visible to monitor-status).
 */
export async function runQueue(ctx: TaskContext, scan: LibraryScan | undefined): Promise<TaskOutcome> {
  const { db, config } = ctx;
  const qb = qbittorrent(config, { refusals: d1LoginRefusals(db) });
  const now = new Date();
  const polled = await poll(db, qb, config, now);
  const metadata: Record<string, unknown> = {
    polled_at: now.toISOString(),
    polled: polled.polled,
    state_counts: polled.state_counts,
    completed: polled.completed,
    failed: polled.failed,
    transfer: polled.transfer,
  };
  if (polled.completed.length > 0 && scan && config.integrations.audiobookshelf.configured) {
    try {
      await scan(config);
      metadata.library_scan = "requested";
    } catch (error) {
      metadata.library_scan = { error: error instanceof AppError ? (error.detail ?? error.message) : "failed" };
    }
  }
  let sent: SendReport;
  try {
    sent = await send(db, qb, config, now);
  } catch (error) {
    throw new TaskError(error, { ...metadata, send_failed: true });
  }
  Object.assign(metadata, { sent: sent.sent, refused: sent.refused, free_slots: sent.slots });
  const processed = polled.polled + sent.sent.length + sent.refused.length;
  const failed = polled.failed.length + sent.refused.length;
  return {
    processed,
    succeeded: processed - failed,
    failed,
    metadata,
    failures: [
      ...polled.failed.map((f) => ({ taskName: "QUEUE", itemId: f.download_id, reason: f.reason, errorCode: "download_failed" })),
      ...sent.refused.map((f) => ({ taskName: "QUEUE", itemId: f.download_id, reason: f.reason, errorCode: "download_refused" })),
    ],
  };
}

/** GET /api/system/qbittorrent/monitor-status: the last poll's figures and the downloads in progress. */
export async function monitorStatus(db: Database, config: Config) {
  const [[lastPoll], [lastRun], active] = await db.batch([
    db
      .select()
      .from(tasks)
      .where(and(eq(tasks.taskName, "QUEUE"), sql`json_extract(${tasks.taskMetadata}, '$.polled_at') IS NOT NULL`))
      .orderBy(desc(tasks.dateCreated), desc(tasks.id))
      .limit(1),
    db.select().from(tasks).where(eq(tasks.taskName, "QUEUE")).orderBy(desc(tasks.dateCreated), desc(tasks.id)).limit(1),
    db.select().from(downloads).where(isDownloading).orderBy(asc(downloads.lastAttempt), asc(downloads.id)),
  ]);
  const seen = lastPoll?.taskMetadata ?? {};
  const transfer = (seen.transfer ?? {}) as PollReport["transfer"];
  return {
    configured: config.integrations.qbittorrent.configured,
    max_active: config.upstream.qbMaxActive,
    polled_at: (seen.polled_at as string | undefined) ?? null,
    state_counts: (seen.state_counts as Record<string, number> | undefined) ?? {},
    active_downloads: active.map((row) => ({
      download_id: row.id,
      title: row.title,
      qbittorrent_hash: row.qbittorrentHash,
      qbittorrent_status: row.qbittorrentStatus,
      progress: row.progress ?? 0,
      download_speed: transfer[row.id]?.dlspeed ?? null,
      eta_seconds: transfer[row.id]?.eta ?? null,
      state_since: row.qbittorrentStatusSince,
      sent_at: row.lastAttempt,
    })),
    last_run: lastRun
      ? { task_id: lastRun.id, status: lastRun.status, started: lastRun.actualStart, error_message: lastRun.errorMessage }
      : null,
  };
}
