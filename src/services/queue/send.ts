import { and, asc, eq, isNull, lte, or, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { type Download, downloads } from "../../db/schema";
import { type AddOutcome, downloadTag, magnetHash, QB_TAG, type QbittorrentClient } from "../../integrations/qbittorrent";
import { syncGap } from "../downloads";
import { checkLink, type LinkCheck, prowlarrUrlOf, sendableLink } from "../downloads/links";
import { enqueueNotification, enqueueNotifications } from "../notifications/enqueue";
import { countFailure, failureEvent, isClaimed, isDownloading, SENDING } from "./status";

/** A claim older than this was left by a run that stopped: the download may be sent again. */
export const SEND_LEASE_MS = 10 * 60_000;
/**
 * Downloads sent a run at most, whatever QB_MAX_ACTIVE allows (the rest at the next ticks, 5
 * minutes apart): about 2 subrequests and 3 D1 queries each, so QUEUE's share of a tick does not
 * grow with QB_MAX_ACTIVE (DEPLOYMENT.md, "Free or Paid"; test/scheduler/free-plan-ticks.test.ts).
 */
export const QUEUE_SENDS_PER_RUN = 3;

export interface SendReport {
  sent: { download_id: number; hash: string | null; outcome: AddOutcome["result"] | "already_in_qbittorrent" }[];
  refused: { download_id: number; reason: string }[];
  slots: number;
}

/**
 * The first of the download's links that may go to qBittorrent (../downloads/links.ts), or why
 * none may; undefined when it has none. Rows stored before the rule get the same check.
 */
function linkOf(row: Download, prowlarrUrl: string | undefined): LinkCheck | undefined {
  let first: LinkCheck | undefined;
  for (const link of [row.magnetLink, row.torrentUrl]) {
    if (!link) continue;
    const checked = checkLink(link, prowlarrUrl);
    if (checked.ok) return checked;
    first ??= checked;
  }
  return first;
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

function abandon(db: Database, id: number, reason: string, stamp: string) {
  return db
    .update(downloads)
    .set({ status: "abandoned", qbittorrentStatus: null, lastAttempt: stamp, nextRetry: null, absImportError: reason })
    .where(and(eq(downloads.id, id), isClaimed));
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
  const room = Math.min(slots, QUEUE_SENDS_PER_RUN);
  if (room === 0) return report;
  const due = await db
    .select({ id: downloads.id })
    .from(downloads)
    .where(and(eq(downloads.status, "queued"), or(isNull(downloads.nextRetry), lte(downloads.nextRetry, stamp))))
    .orderBy(asc(downloads.dateQueued), asc(downloads.id))
    .limit(room * 2);

  for (const { id } of due) {
    if (report.sent.length >= room) break;
    const row = await claim(db, id, maxActive, now);
    if (!row) continue;
    const link = linkOf(row, prowlarrUrlOf(config));
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
      if (!link) {
        report.refused.push({ download_id: row.id, reason: "no magnet link or torrent URL" });
        await release.run();
        continue;
      }
      if (!link.ok) {
        // A link that may never go to qBittorrent does not become one by waiting: abandoned.
        const reason = `Not sent to qBittorrent: ${link.reason}`;
        report.refused.push({ download_id: row.id, reason });
        const event = { download_id: row.id, title: row.title, reason, attempts: row.retryCount, max_retries: row.maxRetries };
        await db.batch([abandon(db, row.id, reason, stamp), enqueueNotification(db, "download.abandoned", event, now), ...gap]);
        continue;
      }
      const prowlarr = config.integrations.prowlarr;
      const outcome = await qb.add({
        url: sendableLink(link, prowlarr.configured ? prowlarr.settings : undefined),
        category: settings.settings.category,
        savePath: settings.settings.savePath,
        tags: [QB_TAG, downloadTag(row.id)],
      });
      if (outcome.result === "refused") {
        report.refused.push({ download_id: row.id, reason: outcome.detail });
        await db.batch([
          countFailure(db, row, outcome.detail, "refused", now, isClaimed!),
          enqueueNotifications(db, [failureEvent(row, outcome.detail)], now),
          ...gap,
        ]);
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
