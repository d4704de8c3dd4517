import { and, eq } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { downloads } from "../../db/schema";
import { downloadTag, type QbittorrentClient, type Torrent } from "../../integrations/qbittorrent";
import { syncGap } from "../downloads";
import { verdictOf } from "../qbittorrent-states";
import { countFailure, isDownloading } from "./status";

/** A download sent by URL whose torrent qBittorrent still has not shown after this failed to fetch. */
export const URL_FETCH_GRACE_MS = 30 * 60_000;

export interface PollReport {
  polled: number;
  state_counts: Record<string, number>;
  completed: number[];
  failed: { download_id: number; reason: string }[];
}

/** Step 1: every download in `downloading`, as qBittorrent sees it now. */
export async function poll(db: Database, qb: QbittorrentClient, config: Config, now: Date): Promise<PollReport> {
  const rows = await db.select().from(downloads).where(eq(downloads.status, "downloading"));
  const report: PollReport = { polled: rows.length, state_counts: {}, completed: [], failed: [] };
  if (rows.length === 0) return report;

  const withHash = rows.filter((row) => row.qbittorrentHash);
  const byHash = new Map(
    (await qb.torrents({ hashes: withHash.map((row) => row.qbittorrentHash!) })).map((t) => [t.hash.toLowerCase(), t]),
  );
  // Sent by URL and not seen yet: looked up by the download's own tag.
  const byTag = new Map<number, Torrent | undefined>();
  for (const row of rows.filter((r) => !r.qbittorrentHash)) byTag.set(row.id, (await qb.torrents({ tag: downloadTag(row.id) }))[0]);

  const stallMs = config.upstream.qbStallMinutes * 60_000;
  const absConfigured = config.integrations.audiobookshelf.configured;
  const stamp = now.toISOString();
  const writes = [];
  for (const row of rows) {
    const torrent = row.qbittorrentHash ? byHash.get(row.qbittorrentHash.toLowerCase()) : byTag.get(row.id);
    if (!torrent) {
      const sentAt = Date.parse(row.lastAttempt ?? row.dateQueued);
      if (!row.qbittorrentHash && now.getTime() - sentAt < URL_FETCH_GRACE_MS) continue;
      const reason = row.qbittorrentHash ? "qBittorrent no longer knows this torrent" : "qBittorrent never added the torrent from its URL";
      report.failed.push({ download_id: row.id, reason });
      writes.push(countFailure(db, row, reason, "missing", now, isDownloading));
      continue;
    }
    report.state_counts[torrent.state] = (report.state_counts[torrent.state] ?? 0) + 1;
    const verdict = verdictOf(torrent.state);
    const since = row.qbittorrentStatus === torrent.state && row.qbittorrentStatusSince ? row.qbittorrentStatusSince : stamp;
    const guard = and(eq(downloads.id, row.id), isDownloading);
    const seen = {
      qbittorrentHash: torrent.hash.toLowerCase(),
      qbittorrentStatus: torrent.state,
      qbittorrentStatusSince: since,
      progress: torrent.progress,
    };
    if (verdict === "completed") {
      report.completed.push(row.id);
      writes.push(
        db
          .update(downloads)
          .set({
            ...seen,
            progress: 1,
            status: "completed",
            dateCompleted: stamp,
            lastAttempt: stamp,
            absImportStatus: absConfigured ? "pending" : null,
            nextRetry: null,
          })
          .where(guard),
      );
    } else if (verdict === "failed" || (verdict === "stalled" && now.getTime() - Date.parse(since) >= stallMs)) {
      const reason =
        verdict === "failed" ? `qBittorrent reports ${torrent.state}` : `stalled for more than ${config.upstream.qbStallMinutes} minutes`;
      report.failed.push({ download_id: row.id, reason });
      writes.push(countFailure(db, row, reason, torrent.state, now, isDownloading));
    } else if (row.qbittorrentStatus !== torrent.state || row.progress !== torrent.progress || !row.qbittorrentHash) {
      writes.push(db.update(downloads).set(seen).where(guard));
    }
  }
  const settled = new Set([...report.completed, ...report.failed.map((f) => f.download_id)]);
  const gaps = rows.filter((row) => settled.has(row.id) && row.missingBookId !== null).map((row) => syncGap(db, row.missingBookId!));
  const statements = [...writes, ...gaps];
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return report;
}
