import { and, asc, desc, eq, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { type Download, downloads, tasks } from "../db/schema";
import { AppError } from "../errors";
import {
  type AddOutcome,
  downloadTag,
  magnetHash,
  QB_TAG,
  type QbittorrentClient,
  qbittorrent,
  type Torrent,
} from "../integrations/qbittorrent";
import { TaskError } from "../lib/failure";
import type { TaskContext, TaskOutcome } from "../scheduler/tasks";
import { syncGap } from "./downloads";
import { verdictOf } from "./qbittorrent-states";

/**
 * The QUEUE task (INTEGRATIONS.md section 4): poll qBittorrent for the downloads in `downloading`,
 * then send the queued ones that are due while fewer than QB_MAX_ACTIVE are downloading.
 *
 * Nothing is lost or half-moved: every write is conditional on the status it was decided from
 * (a concurrent run or a request that moved the download meanwhile wins), a download reaches
 * `downloading` only after qBittorrent accepted it, and a download being sent is claimed first
 * (qbittorrent_status `sending`, one statement that also checks the active limit), so two runs at
 * once never add the same one. A run that stops after adding and before recording leaves the claim
 * to expire; the next run finds the torrent already in qBittorrent (by hash or by the download's
 * tag) and records it instead of adding it again.
 */

/** A claim older than this was left by a run that stopped: the download may be sent again. */
export const SEND_LEASE_MS = 10 * 60_000;
/** A download sent by URL whose torrent qBittorrent still has not shown after this failed to fetch. */
export const URL_FETCH_GRACE_MS = 30 * 60_000;
/** First automatic retry after this long, doubling with each failed attempt. */
export const RETRY_BASE_MS = 60 * 60_000;
const SENDING = "sending";

export interface PollReport {
  polled: number;
  state_counts: Record<string, number>;
  completed: number[];
  failed: { download_id: number; reason: string }[];
}

export interface SendReport {
  sent: { download_id: number; hash: string | null; outcome: AddOutcome["result"] | "already_in_qbittorrent" }[];
  refused: { download_id: number; reason: string }[];
  slots: number;
}

/** The release fields stored on a download queued by acquire (metadata_json). */
interface QueuedRelease {
  info_hash?: string | null;
}

function infoHashOf(row: Download): string | null {
  if (row.magnetLink) {
    const hash = magnetHash(row.magnetLink);
    if (hash) return hash;
  }
  if (!row.metadataJson) return null;
  try {
    const hash = (JSON.parse(row.metadataJson) as QueuedRelease).info_hash;
    return typeof hash === "string" && /^[0-9a-f]{40}$/i.test(hash) ? hash.toLowerCase() : null;
  } catch {
    return null;
  }
}

/**
 * The mark-failed path (contract section 6), automated: one more attempt counted, abandoned at
 * max_retries, otherwise back to the queue, due again after a delay that doubles with each
 * attempt. Written only while the download is still where the decision was made (`where`).
 */
function countFailure(db: Database, row: Download, reason: string, state: string | null, now: Date, where: SQL) {
  const attempts = sql`${downloads.retryCount} + 1`;
  const exhausted = sql`${attempts} >= ${downloads.maxRetries}`;
  const retryAt = new Date(now.getTime() + RETRY_BASE_MS * 2 ** row.retryCount).toISOString();
  return db
    .update(downloads)
    .set({
      retryCount: attempts,
      lastAttempt: now.toISOString(),
      status: sql`CASE WHEN ${exhausted} THEN 'abandoned' ELSE 'queued' END`,
      nextRetry: sql`CASE WHEN ${exhausted} THEN NULL ELSE ${retryAt} END`,
      absImportError: sql`CASE WHEN ${exhausted} THEN ${`Max retries exceeded: ${reason}`} ELSE ${reason} END`,
      qbittorrentStatus: state,
      qbittorrentStatusSince: now.toISOString(),
    })
    .where(and(eq(downloads.id, row.id), where));
}

const isDownloading = eq(downloads.status, "downloading");
const isClaimed = and(eq(downloads.status, "queued"), sql`${downloads.qbittorrentStatus} = 'sending'`);

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

/**
 * Claims one due download for sending, in one statement: still queued and due, not claimed by a
 * live run, and fewer than `maxActive` downloading or being sent.
 */
function claim(db: Database, id: number, maxActive: number, now: Date) {
  const stamp = now.toISOString();
  const leaseCutoff = new Date(now.getTime() - SEND_LEASE_MS).toISOString();
  const live = sql`(${downloads.qbittorrentStatus} IS NOT ${SENDING} OR ${downloads.lastAttempt} < ${leaseCutoff})`;
  const busy = sql`(SELECT count(*) FROM ${downloads} d WHERE d.status = 'downloading' OR (d.status = 'queued' AND d.qbittorrent_status = ${SENDING} AND d.last_attempt >= ${leaseCutoff}))`;
  return db
    .update(downloads)
    .set({ qbittorrentStatus: SENDING, lastAttempt: stamp })
    .where(
      and(
        eq(downloads.id, id),
        eq(downloads.status, "queued"),
        or(isNull(downloads.nextRetry), lte(downloads.nextRetry, stamp)),
        live,
        sql`${busy} < ${maxActive}`,
      ),
    )
    .returning()
    .get();
}

/** Step 2: sends the due queued downloads, oldest first, while slots are free. */
export async function send(db: Database, qb: QbittorrentClient, config: Config, now: Date): Promise<SendReport> {
  const settings = config.integrations.qbittorrent;
  if (!settings.configured) throw new Error("qBittorrent is not configured");
  const maxActive = config.upstream.qbMaxActive;
  const stamp = now.toISOString();
  const active = await db.select({ n: sql<number>`count(*)` }).from(downloads).where(isDownloading).get();
  const slots = Math.max(0, maxActive - (active?.n ?? 0));
  const report: SendReport = { sent: [], refused: [], slots };
  if (slots === 0) return report;
  const due = await db
    .select({ id: downloads.id })
    .from(downloads)
    .where(and(eq(downloads.status, "queued"), or(isNull(downloads.nextRetry), lte(downloads.nextRetry, stamp))))
    .orderBy(asc(downloads.dateQueued), asc(downloads.id))
    .limit(slots * 2);

  for (const { id } of due) {
    if (report.sent.length >= slots) break;
    const row = await claim(db, id, maxActive, now);
    if (!row) continue;
    const url = row.magnetLink ?? row.torrentUrl;
    const hash = infoHashOf(row);
    const accepted = (qbHash: string | null) =>
      db
        .update(downloads)
        .set({
          status: "downloading",
          qbittorrentHash: qbHash,
          qbittorrentStatus: "sent",
          qbittorrentStatusSince: stamp,
          progress: 0,
          lastAttempt: stamp,
        })
        .where(and(eq(downloads.id, row.id), isClaimed));
    const release = db
      .update(downloads)
      .set({ qbittorrentStatus: null })
      .where(and(eq(downloads.id, row.id), isClaimed));
    const gap = row.missingBookId !== null ? [syncGap(db, row.missingBookId)] : [];
    try {
      // Already in qBittorrent (a run that stopped after adding, or added by hand): record it.
      const known = hash ? (await qb.torrents({ hashes: [hash] }))[0] : (await qb.torrents({ tag: downloadTag(row.id) }))[0];
      if (known) {
        await db.batch([accepted(known.hash.toLowerCase()), ...gap]);
        report.sent.push({ download_id: row.id, hash: known.hash.toLowerCase(), outcome: "already_in_qbittorrent" });
        continue;
      }
      if (!url) {
        report.refused.push({ download_id: row.id, reason: "no magnet link or torrent URL" });
        await release.run();
        continue;
      }
      const outcome = await qb.add({
        url,
        category: settings.settings.category,
        savePath: settings.settings.savePath,
        tags: [QB_TAG, downloadTag(row.id)],
      });
      if (outcome.result === "refused") {
        report.refused.push({ download_id: row.id, reason: outcome.detail });
        await db.batch([countFailure(db, row, outcome.detail, "refused", now, isClaimed!), ...gap]);
        continue;
      }
      const qbHash = (outcome.result === "added" ? outcome.hash : undefined) ?? hash;
      await db.batch([accepted(qbHash), ...gap]);
      report.sent.push({ download_id: row.id, hash: qbHash, outcome: outcome.result });
    } catch (error) {
      // qBittorrent did not answer (or not as documented): the download stays queued, unclaimed.
      await release.run();
      throw error;
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// The task, and what it last saw
// ---------------------------------------------------------------------------------------------

/** Asks Audiobookshelf to scan for what completed (wired in src/scheduler/tasks.ts). */
export type LibraryScan = (config: Config) => Promise<unknown>;

/**
 * One QUEUE run: poll, scan when something completed, send. A poll that fails writes nothing; a
 * send that fails leaves its download queued. Either way the run fails with what it did so far in
 * its metadata (the poll's figures stay visible to monitor-status).
 */
export async function runQueue(ctx: TaskContext, scan: LibraryScan | undefined): Promise<TaskOutcome> {
  const { db, config } = ctx;
  const qb = qbittorrent(config);
  const now = new Date();
  const polled = await poll(db, qb, config, now);
  const metadata: Record<string, unknown> = {
    polled_at: now.toISOString(),
    polled: polled.polled,
    state_counts: polled.state_counts,
    completed: polled.completed,
    failed: polled.failed,
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
      state_since: row.qbittorrentStatusSince,
      sent_at: row.lastAttempt,
    })),
    last_run: lastRun
      ? { task_id: lastRun.id, status: lastRun.status, started: lastRun.actualStart, error_message: lastRun.errorMessage }
      : null,
  };
}
