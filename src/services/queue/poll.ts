import { and, eq, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { jsonTable } from "../../db/json-rows";
import { downloads } from "../../db/schema";
import { downloadTag, QB_TAG, type QbittorrentClient, type Torrent } from "../../integrations/qbittorrent";
import { syncGap } from "../downloads";
import { enqueueNotifications, type NotificationInput } from "../notifications/enqueue";
import { verdictOf } from "../qbittorrent-states";
import { countFailures, type FailureRow, failureEvent, failureRow, isDownloading } from "./status";

/** A download sent by URL whose torrent qBittorrent still has not shown after this failed to fetch. */
export const URL_FETCH_GRACE_MS = 30 * 60_000;

export interface PollReport {
  polled: number;
  state_counts: Record<string, number>;
  completed: number[];
  failed: { download_id: number; reason: string }[];
  /** Download id → qBittorrent's speed (bytes/s) and ETA (s) at this poll, for those still downloading. */
  transfer: Record<number, { dlspeed: number | null; eta: number | null }>;
}

/** qBittorrent's ETA for "never" (its MAX_ETA: 100 days). */
export const QB_ETA_INFINITE = 8_640_000;

/** Step 1: every download in `downloading`, as qBittorrent sees it now. */
export async function poll(db: Database, qb: QbittorrentClient, config: Config, now: Date): Promise<PollReport> {
  const rows = await db.select().from(downloads).where(eq(downloads.status, "downloading"));
  const report: PollReport = { polled: rows.length, state_counts: {}, completed: [], failed: [], transfer: {} };
  if (rows.length === 0) return report;

  const withHash = rows.filter((row) => row.qbittorrentHash);
  const byHash = new Map(
    (await qb.torrents({ hashes: withHash.map((row) => row.qbittorrentHash!) })).map((t) => [t.hash.toLowerCase(), t]),
  );
  // Sent by URL and not seen yet: found by the download's own tag, among every torrent this
  // service added (one call for all of them: a call each would spend the Free plan's 50
  // subrequests on 50 such downloads).
  const byTag = new Map<string, Torrent>();
  if (rows.some((row) => !row.qbittorrentHash)) {
    for (const torrent of await qb.torrents({ tag: QB_TAG }))
      for (const tag of torrent.tags.split(",")) if (!byTag.has(tag.trim())) byTag.set(tag.trim(), torrent);
  }

  const stallMs = config.upstream.qbStallMinutes * 60_000;
  const absConfigured = config.integrations.audiobookshelf.configured;
  const stamp = now.toISOString();
  const seen: SeenRow[] = [];
  const completed: SeenRow[] = [];
  const failures: FailureRow[] = [];
  const events: NotificationInput[] = [];
  for (const row of rows) {
    const torrent = row.qbittorrentHash ? byHash.get(row.qbittorrentHash.toLowerCase()) : byTag.get(downloadTag(row.id));
    if (!torrent) {
      const sentAt = Date.parse(row.lastAttempt ?? row.dateQueued);
      if (!row.qbittorrentHash && now.getTime() - sentAt < URL_FETCH_GRACE_MS) continue;
      const reason = row.qbittorrentHash ? "qBittorrent no longer knows this torrent" : "qBittorrent never added the torrent from its URL";
      report.failed.push({ download_id: row.id, reason });
      failures.push(failureRow(row, reason, "missing", now));
      events.push(failureEvent(row, reason));
      continue;
    }
    report.state_counts[torrent.state] = (report.state_counts[torrent.state] ?? 0) + 1;
    const verdict = verdictOf(torrent.state);
    const since = row.qbittorrentStatus === torrent.state && row.qbittorrentStatusSince ? row.qbittorrentStatusSince : stamp;
    const current = { id: row.id, hash: torrent.hash.toLowerCase(), state: torrent.state, since, progress: torrent.progress };
    if (verdict === "completed") {
      report.completed.push(row.id);
      completed.push(current);
    } else if (verdict === "failed" || (verdict === "stalled" && now.getTime() - Date.parse(since) >= stallMs)) {
      const reason =
        verdict === "failed" ? `qBittorrent reports ${torrent.state}` : `stalled for more than ${config.upstream.qbStallMinutes} minutes`;
      report.failed.push({ download_id: row.id, reason });
      failures.push(failureRow(row, reason, torrent.state, now));
      events.push(failureEvent(row, reason));
    } else {
      // Speed and ETA change every poll: kept with the run (monitor-status reads them), not written per download.
      report.transfer[row.id] = {
        dlspeed: torrent.dlspeed ?? null,
        eta: torrent.eta === undefined || torrent.eta >= QB_ETA_INFINITE ? null : torrent.eta,
      };
      if (row.qbittorrentStatus !== torrent.state || row.progress !== torrent.progress || !row.qbittorrentHash) seen.push(current);
    }
  }
  const settled = new Set([...report.completed, ...report.failed.map((f) => f.download_id)]);
  const gapIds = rows.filter((row) => settled.has(row.id) && row.missingBookId !== null).map((row) => row.missingBookId!);
  // Each kind of write is one statement over all its downloads (their values as one JSON
  // parameter): a run with 100 active downloads is a handful of D1 queries, not 100.
  const statements = [
    ...(seen.length > 0 ? [recordSeen(db, seen)] : []),
    ...(completed.length > 0 ? [recordCompleted(db, completed, stamp, absConfigured)] : []),
    ...(failures.length > 0 ? [countFailures(db, failures, now, isDownloading), enqueueNotifications(db, events, now)] : []),
    ...(gapIds.length > 0 ? [syncGap(db, gapIds)] : []),
  ];
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return report;
}

/** What qBittorrent shows of one download now. */
interface SeenRow {
  id: number;
  hash: string;
  state: string;
  since: string;
  progress: number;
}

/** `rows` as a table of the statement (`seen`), one JSON parameter whatever their number. */
function seenTable(rows: SeenRow[]) {
  return jsonTable("seen", ["id", "hash", "state", "since", "progress"], rows);
}

const seenValues = {
  qbittorrentHash: sql`seen.hash`,
  qbittorrentStatus: sql`seen.state`,
  qbittorrentStatusSince: sql`seen.since`,
  progress: sql`seen.progress`,
};

/** Hash, state, since when and progress of downloads still downloading, written only while they are. */
function recordSeen(db: Database, rows: SeenRow[]) {
  return db
    .update(downloads)
    .set(seenValues)
    .from(seenTable(rows))
    .where(and(eq(downloads.id, sql`seen.id`), isDownloading));
}

/** Downloads qBittorrent finished: completed, to be imported by Audiobookshelf when it is configured. */
function recordCompleted(db: Database, rows: SeenRow[], stamp: string, absConfigured: boolean) {
  return db
    .update(downloads)
    .set({
      ...seenValues,
      progress: 1,
      status: "completed",
      dateCompleted: stamp,
      lastAttempt: stamp,
      absImportStatus: absConfigured ? "pending" : null,
      nextRetry: null,
    })
    .from(seenTable(rows))
    .where(and(eq(downloads.id, sql`seen.id`), isDownloading));
}
