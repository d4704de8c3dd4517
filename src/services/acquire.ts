import { and, asc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { missingBooks, series } from "../db/schema";
import { ConflictError, NotFoundError } from "../errors";
import { UpstreamError } from "../integrations/http";
import type { SearchResult } from "../integrations/prowlarr";
import { createDownload } from "./downloads";
import { checkLink, shownLink } from "./downloads/links";
import { type Decision, type Release, rankReleases } from "./releases";
import { settleRequests } from "./requests/status";
import { queryOf, type WantedJson, wantedJson, wantedOf } from "./wanted";

export { queryOf, titleUnknown } from "./wanted";

/**
 * Acquisition (README, "From a gap to a finished download"): for each open gap, series gaps first, search Prowlarr,
 * rank the releases (./releases.ts) and queue the best as a download linked to the gap. A gap
 * with a download in flight is skipped without a search, so running it again while the first
 * downloads are active queues nothing. `dry_run` searches and ranks the same, and writes nothing.
 */

export interface AcquireOptions {
  maxDownloads: number;
  dryRun: boolean;
  /** PROWLARR_URL: the only origin an http(s) release link may point at (./downloads/links.ts). */
  prowlarrUrl: string | undefined;
  /** The language releases must be in (RELEASE_LANGUAGE); null or absent: any. */
  language?: string | null | undefined;
  /** Only this series' gaps (404 when there is no such series). */
  seriesId?: number | undefined;
  /** Only these gaps; those not open are skipped with reason `not_open`. */
  missingBookIds?: readonly number[] | undefined;
  /** Today, for announced books (default: now). */
  now?: Date;
}

/** Searches Prowlarr (src/integrations/prowlarr.ts), injected so the rules are testable alone. */
export type Search = (query: string) => Promise<SearchResult>;

/** Searches per run at most, as a multiple of max_downloads: gaps with no release cost a search too. */
const SEARCHES_PER_DOWNLOAD = 3;
/** Gaps read per run: enough to find the searchable ones behind those already in flight. */
const GAPS_READ = 500;

export type SkipReason =
  | "download_active"
  | "download_completed"
  | "no_matching_release"
  | "duplicate_release"
  | "no_results"
  | "not_open"
  | "not_released";

export interface ReleaseSummary {
  guid: string;
  title: string;
  indexer: string | null;
  seeders: number;
  size: number;
  freeleech: boolean;
  match: Decision["reason"];
}

export interface AcquireResult {
  dry_run: boolean;
  max_downloads: number;
  searched: number;
  queued: { missing_book_id: number; wanted: string; download_id: number | null; release: ReleaseSummary }[];
  skipped: { missing_book_id: number; wanted: string; reason: SkipReason; detail: string }[];
  /** Per gap searched: what it wants, the query, and every ranked release with its reason (dry_run only). */
  decisions?: {
    missing_book_id: number;
    wanted: WantedJson;
    query: string;
    /** The query was already sent for an earlier gap of this run: its answer was read again, not re-sent. */
    query_reused: boolean;
    releases: Decision[];
  }[];
  /** Releases left out because none of their links may go to qBittorrent (./downloads/links.ts). */
  refused_links: { missing_book_id: number; guid: string; title: string; reason: string }[];
  /** Open gaps not looked at because the run's limits were reached. */
  not_reached: number;
  /** Set when Prowlarr failed part way: what was done before stands. */
  stopped?: string;
}

type Link = { magnet_link: string } | { torrent_url: string } | { refused: string };

/**
 * How a release is handed to qBittorrent, as stored: a magnet as is; else Prowlarr's download URL
 * (without its key); else its magnet URL; else a magnet from the hash. The first the link rules
 * allow (./downloads/links.ts); `refused` with the first reason when none; null with no link at all.
 */
export function linkOf(release: Release, prowlarrUrl: string | undefined): Link | null {
  const hash = release.infoHash && /^[0-9a-f]{40}$/.test(release.infoHash) ? release.infoHash : null;
  const candidates = [
    release.magnetUrl?.startsWith("magnet:") ? release.magnetUrl : null,
    release.downloadUrl,
    release.magnetUrl,
    hash && `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(release.title)}`,
  ].filter((link): link is string => Boolean(link));
  let refused: string | undefined;
  for (const link of candidates) {
    const checked = checkLink(link, prowlarrUrl);
    if (checked.ok) return checked.kind === "magnet" ? { magnet_link: checked.link } : { torrent_url: checked.link };
    refused ??= checked.reason;
  }
  if (release.infoHash && !hash) refused ??= "an info hash that is not 40 hexadecimal digits";
  return refused ? { refused } : null;
}

function summary(release: Release, decision: Decision | undefined): ReleaseSummary {
  return {
    guid: release.guid,
    title: release.title,
    indexer: release.indexer,
    seeders: release.seeders,
    size: release.size,
    freeleech: release.freeleech,
    match: decision?.reason ?? "title",
  };
}

/** Open gaps (of one series, or chosen ones), series gaps first, then by priority and age. */
function openGaps(db: Database, options: AcquireOptions) {
  const where: SQL[] = [isNull(missingBooks.bookId)];
  if (options.seriesId !== undefined) where.push(eq(missingBooks.seriesId, options.seriesId));
  if (options.missingBookIds !== undefined) where.push(inArray(missingBooks.id, [...options.missingBookIds]));
  return db
    .select()
    .from(missingBooks)
    .where(and(...where))
    .orderBy(sql`${missingBooks.reasonMissing} = 'series_gap' DESC`, asc(missingBooks.priority), asc(missingBooks.id))
    .limit(GAPS_READ);
}

export async function acquire(db: Database, search: Search, options: AcquireOptions): Promise<AcquireResult> {
  const result: AcquireResult = {
    dry_run: options.dryRun,
    max_downloads: options.maxDownloads,
    searched: 0,
    queued: [],
    skipped: [],
    refused_links: [],
    not_reached: 0,
  };
  if (options.dryRun) result.decisions = [];
  const searchBudget = options.maxDownloads * SEARCHES_PER_DOWNLOAD;
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  if (options.seriesId !== undefined) {
    const [found] = await db.select({ id: series.id }).from(series).where(eq(series.id, options.seriesId));
    if (!found) throw new NotFoundError("Series", options.seriesId);
  }
  const gaps = await openGaps(db, options);
  for (const id of options.missingBookIds ?? []) {
    if (!gaps.some((gap) => gap.id === id))
      result.skipped.push({
        missing_book_id: id,
        wanted: "",
        reason: "not_open",
        detail: `no open gap ${id} (unknown, or already filled)`,
      });
  }
  // One run never sends the same query twice: a second gap asking the same reads the first answer.
  const answers = new Map<string, SearchResult>();
  for (const [index, gap] of gaps.entries()) {
    const wanted = gap.title;
    if (gap.downloadStatus === "queued" || gap.downloadStatus === "downloading") {
      result.skipped.push({
        missing_book_id: gap.id,
        wanted,
        reason: "download_active",
        detail: `download ${gap.downloadId} is ${gap.downloadStatus}`,
      });
      continue;
    }
    if (gap.downloadStatus === "completed") {
      result.skipped.push({
        missing_book_id: gap.id,
        wanted,
        reason: "download_completed",
        detail: `download ${gap.downloadId} completed; the next library sync resolves the gap`,
      });
      continue;
    }
    if (gap.releaseDate && gap.releaseDate > today) {
      result.skipped.push({
        missing_book_id: gap.id,
        wanted,
        reason: "not_released",
        detail: `announced for ${gap.releaseDate}: not searched for before then`,
      });
      continue;
    }
    if (result.queued.length >= options.maxDownloads || result.searched >= searchBudget) {
      result.not_reached = gaps.slice(index).filter((g) => g.downloadStatus === "identified" || g.downloadStatus === "failed").length;
      break;
    }
    const query = queryOf(gap);
    let found = answers.get(query);
    const reused = found !== undefined;
    if (!found) {
      try {
        found = await search(query);
      } catch (error) {
        // Prowlarr down: stop here. With nothing done yet the caller gets the 502 itself.
        if (!(error instanceof UpstreamError) || (result.searched === 0 && result.queued.length === 0)) throw error;
        result.stopped = error.detail ?? error.message;
        break;
      }
      answers.set(query, found);
      result.searched++;
    }
    // A guid may be an indexer's link with a passkey: it is answered and stored without it.
    const releases = found.releases.map((release) => ({ ...release, guid: shownLink(release.guid) ?? release.guid }));
    const links = new Map(releases.map((release) => [release, linkOf(release, options.prowlarrUrl)]));
    const usable = releases.filter((release) => {
      const link = links.get(release);
      if (!link || !("refused" in link)) return true;
      result.refused_links.push({ missing_book_id: gap.id, guid: release.guid, title: release.title, reason: link.refused });
      return false;
    });
    const ranking = rankReleases(wantedOf(gap), usable, { language: options.language });
    result.decisions?.push({ missing_book_id: gap.id, wanted: wantedJson(gap), query, query_reused: reused, releases: ranking.decisions });
    if (!ranking.best) {
      const refused = ranking.decisions.length + (releases.length - usable.length);
      result.skipped.push({
        missing_book_id: gap.id,
        wanted,
        reason: refused === 0 ? "no_results" : "no_matching_release",
        detail:
          refused === 0
            ? `Prowlarr found nothing for "${query}"`
            : `none of ${refused} releases is this book (${reasonCounts(ranking.decisions, releases.length - usable.length)})`,
      });
      continue;
    }
    const best = ranking.best;
    const release = summary(best, ranking.decisions[0]);
    // The ranking accepts only releases with a link, and every link left is allowed.
    const link = links.get(best);
    if (!link || "refused" in link) throw new Error("The best release has no link to send");
    if (options.dryRun) {
      result.queued.push({ missing_book_id: gap.id, wanted, download_id: null, release });
      continue;
    }
    try {
      const download = await createDownload(
        db,
        {
          title: best.title,
          author: gap.authorName,
          source: `Prowlarr${best.indexer ? `: ${best.indexer}` : ""}`,
          missing_book_id: gap.id,
          metadata_json: JSON.stringify({
            guid: best.guid,
            indexer: best.indexer,
            info_hash: best.infoHash,
            size: best.size,
            seeders: best.seeders,
            freeleech: best.freeleech,
          }),
          ...link,
        },
        options.prowlarrUrl,
      );
      result.queued.push({ missing_book_id: gap.id, wanted, download_id: download.download_id, release });
    } catch (error) {
      // The same release already queued for another gap, or the gap filled meanwhile.
      if (!(error instanceof ConflictError)) throw error;
      result.skipped.push({ missing_book_id: gap.id, wanted, reason: "duplicate_release", detail: error.detail ?? error.message });
    }
  }
  // Approved requests were searched for, or are downloading now (./requests/status.ts).
  if (!options.dryRun) await settleRequests(db, { searched: true });
  return result;
}

function reasonCounts(decisions: Decision[], refusedLinks: number): string {
  const counts = new Map<string, number>();
  for (const d of decisions) counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
  if (refusedLinks > 0) counts.set("refused_link", refusedLinks);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).join(", ");
}
