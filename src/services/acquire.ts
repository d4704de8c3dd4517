import { and, asc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type MissingBook, missingBooks, series } from "../db/schema";
import { NotFoundError } from "../errors";
import { UpstreamError } from "../integrations/http";
import type { SearchResult } from "../integrations/prowlarr";
import { createGapDownloads, type GapDownloadInput } from "./downloads";
import { releaseLink, shownLink } from "./downloads/links";
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

/** A release chosen for a gap, written with the others of the run. */
interface Pick {
  missing_book_id: number;
  wanted: string;
  release: ReleaseSummary;
  /** As stored: a release chosen for two gaps is queued for the first. */
  link: string;
  input: GapDownloadInput;
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

/** Why a gap is passed without a search: its download in flight or done, or the book not out yet. */
function passedBy(gap: MissingBook, today: string): { reason: SkipReason; detail: string } | null {
  if (gap.downloadStatus === "queued" || gap.downloadStatus === "downloading")
    return { reason: "download_active", detail: `download ${gap.downloadId} is ${gap.downloadStatus}` };
  if (gap.downloadStatus === "completed")
    return { reason: "download_completed", detail: `download ${gap.downloadId} completed; the next library sync resolves the gap` };
  if (gap.releaseDate && gap.releaseDate > today)
    return { reason: "not_released", detail: `announced for ${gap.releaseDate}: not searched for before then` };
  return null;
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
  // Chosen and not yet written: queued together (./downloads/create-many.ts), when the run has as
  // many as it may queue or has looked at every gap. One refused (its link already queued, its gap
  // filled meanwhile) leaves a place, so the run goes on to the next gaps as if it had not been chosen.
  let picks: Pick[] = [];
  const chosen = () => result.queued.length + new Set(picks.map((pick) => pick.link)).size;
  const write = async () => {
    const written = await createGapDownloads(
      db,
      picks.map((pick) => pick.input),
      options.prowlarrUrl,
    );
    picks.forEach((pick, i) => {
      const answer = written[i]!;
      const { missing_book_id, wanted, release } = pick;
      if ("download_id" in answer) result.queued.push({ missing_book_id, wanted, download_id: answer.download_id, release });
      else
        result.skipped.push({
          missing_book_id,
          wanted,
          reason: "duplicate_release",
          detail: answer.conflict.detail ?? answer.conflict.message,
        });
    });
    picks = [];
  };
  for (let index = 0; index < gaps.length; index++) {
    const gap = gaps[index]!;
    const wanted = gap.title;
    const passed = passedBy(gap, today);
    if (passed) {
      result.skipped.push({ missing_book_id: gap.id, wanted, ...passed });
      continue;
    }
    if (chosen() >= options.maxDownloads || result.searched >= searchBudget) {
      if (picks.length > 0) {
        // Written now: a refused one frees a place for this gap and the next.
        await write();
        index--;
        continue;
      }
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
        if (!(error instanceof UpstreamError) || (result.searched === 0 && chosen() === 0)) throw error;
        result.stopped = error.detail ?? error.message;
        break;
      }
      answers.set(query, found);
      result.searched++;
    }
    // A guid may be an indexer's link with a passkey: it is answered and stored without it.
    const releases = found.releases.map((release) => ({ ...release, guid: shownLink(release.guid) ?? release.guid }));
    const links = new Map(releases.map((release) => [release, releaseLink(release, options.prowlarrUrl)]));
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
    picks.push({
      missing_book_id: gap.id,
      wanted,
      release,
      link: "magnet_link" in link ? link.magnet_link : link.torrent_url,
      input: {
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
    });
  }
  // What was chosen stands, Prowlarr down part way or not.
  if (picks.length > 0) await write();
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
