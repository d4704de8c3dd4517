import { releaseLanguage } from "../lib/language";
import { indexOfWords, isAbridged, type ParsedRelease, parseReleaseTitle, words } from "./release-title";

export { titleKey, words } from "./release-title";

/**
 * Which release of a search is the wanted book, and which is best: a pure function of the wanted
 * book and the releases, so every decision can be shown (the acquire `dry_run`) and tested alone.
 *
 * A release is the wanted book when its title names it: the series and the position ("Series Name,
 * Book 3" = "#03" = "Vol. 3"), or the title itself with nothing but author, series and format
 * words around it; and, when the author is known, the author's surname. Anything else is refused
 * with a reason: another book of the same series, an omnibus or range pack, another author, a
 * release with no link or no seeders, a size no audiobook has, a release its tags say is in another
 * language than the configured one (RELEASE_LANGUAGE; a release whose tags name none is not refused
 * for it). Among the accepted, the best is
 * freeleech first, then the most seeders, then a sensible size.
 */

export interface WantedBook {
  title: string;
  author: string | null;
  seriesName: string | null;
  seriesNumber: string | null;
}

/** A search result as the Prowlarr client answers it (src/integrations/prowlarr.ts). */
export interface Release {
  guid: string;
  title: string;
  size: number;
  seeders: number;
  indexer: string | null;
  freeleech: boolean;
  protocol: string | null;
  downloadUrl: string | null;
  magnetUrl: string | null;
  infoHash: string | null;
}

/** What the ranking is asked to hold to beside the book. */
export interface RankOptions {
  /** The language releases must be in (ISO 639-2/B: "ENG"); null or absent: any. */
  language?: string | null;
}

export type RefusalReason =
  | "abridged"
  | "language"
  | "not_torrent"
  | "no_link"
  | "no_seeders"
  | "too_small"
  | "too_large"
  | "author_mismatch"
  | "omnibus_pack"
  | "other_position"
  | "title_mismatch";

export interface Decision {
  guid: string;
  title: string;
  accepted: boolean;
  /** How the release matched (accepted), or why it was refused. */
  reason: "series_position" | "title" | RefusalReason;
  detail: string;
  /** 1 for the best accepted release; null when refused. */
  rank: number | null;
  freeleech: boolean;
  seeders: number;
  size: number;
}

export interface Ranking {
  best: Release | null;
  /** Accepted releases first, in rank order, then the refused ones in search order. */
  decisions: Decision[];
}

const MB = 1024 * 1024;
/** Smaller than this is a sample or a single chapter, not an audiobook. */
export const MIN_AUDIOBOOK_BYTES = 5 * MB;
/** Larger than this is a pack or a video, not one audiobook (long M4B books stay under ~4 GB). */
export const MAX_AUDIOBOOK_BYTES = 8 * 1024 * MB;
/** Within this range the size is "sensible" and preferred over outliers. */
const SENSIBLE_BYTES = { min: 30 * MB, max: 4 * 1024 * MB };

/** Words that say how a release is packaged, not what it is. */
const FORMAT_WORDS = new Set(
  "eng english m4b m4a mp3 flac aac ogg opus epub pdf audiobook audiobooks audio book unabridged abridged retail vip kbps kbs cbr vbr chapterized chapters narrated read by ebook web dl rip".split(
    " ",
  ),
);
/** Words that mark a position: "Book 3", "Vol. 3", "Part 3", "No. 3", "#3". */
const POSITION_WORDS = new Set(["book", "books", "bk", "vol", "vols", "volume", "volumes", "part", "parts", "no", "number", "series"]);
const PACK_PATTERN =
  /\b(omnibus|box(?:ed)?\s*set|boxset|complete\s+(?:series|collection|saga)|collection|anthology|bundle|trilogy|quadrilogy|quartet|duology)\b/i;
const POSITION_PATTERN =
  /(?:\b(?:books?|bk|vols?|volumes?|parts?|no|number)\b\.?|#)\s*(\d+(?:\.\d+)?)(?:\s*(?:-|–|—|to|&|and|,)\s*#?\s*(\d+(?:\.\d+)?))?/gi;

/** The positions a title names, as numbers: "Book 3" → [3], "Books 1-3" → [1, 2, 3] with a range flag. */
function positionsIn(title: string, series: string[] | null): { positions: number[]; range: boolean } {
  const positions: number[] = [];
  let range = false;
  for (const match of title.matchAll(POSITION_PATTERN)) {
    const start = Number(match[1]);
    const end = match[2] === undefined ? undefined : Number(match[2]);
    if (end !== undefined && end > start) range = true;
    positions.push(start);
    if (end !== undefined) positions.push(end);
  }
  // "Mistborn 02 - The Well of Ascension": a bare number right after the series name.
  if (series && series.length > 0) {
    const all = words(title);
    const at = indexOfWords(all, series);
    const next = at >= 0 ? all[at + series.length] : undefined;
    if (next !== undefined && /^\d+$/.test(next) && Number(next) < 1000) positions.push(Number(next));
  }
  return { positions: [...new Set(positions)], range };
}

/** The wanted position as a number ("03" → 3, "2.5" → 2.5), or null. */
function positionOf(seriesNumber: string | null): number | null {
  if (!seriesNumber) return null;
  const n = Number(seriesNumber.trim());
  return Number.isFinite(n) ? n : null;
}

/** The title part of a release: before " by Author" and outside brackets ("[ENG / M4B]"). */
function mainTitle(title: string): string {
  const unbracketed = title.replace(/\[[^\]]*\]|\([^)]*\)|\{[^}]*\}/g, " ");
  const by = unbracketed.search(/\s(?:by|read by|narrated by)\s/i);
  return by > 0 ? unbracketed.slice(0, by) : unbracketed;
}

/**
 * The release names the wanted title when its main title is that title, a subtitle after ":"
 * aside, with only author, series, position and format words around it ("Dune Messiah" is not
 * "Dune").
 */
function namesTitle(release: string, wanted: WantedBook): boolean {
  const wantedWords = words(wanted.title);
  if (wantedWords.length === 0) return false;
  // The whole title part, or one of its parts between ":" and " - " ("Author - Series 02 - Title").
  const main = mainTitle(release);
  const candidates = [main, ...main.split(/:|\s[-–—]\s/)];
  const allowed = new Set([...words(wanted.author ?? ""), ...words(wanted.seriesName ?? ""), ...FORMAT_WORDS, ...POSITION_WORDS]);
  return candidates.some((text) => {
    const all = words(text);
    const at = indexOfWords(all, wantedWords);
    if (at < 0) return false;
    const rest = [...all.slice(0, at), ...all.slice(at + wantedWords.length)];
    return rest.every((word) => allowed.has(word) || /^\d+$/.test(word));
  });
}

function hasLink(release: Release): boolean {
  return Boolean(release.magnetUrl || release.downloadUrl || release.infoHash);
}

/** The surnames of a wanted "A, B & C": a release by any of them is theirs (MyAnonamouse names only the first). */
function surnames(author: string | null): string[] {
  return (author ?? "")
    .split(/,|&|\band\b|;/)
    .map((name) => words(name).at(-1))
    .filter((word): word is string => Boolean(word));
}

/**
 * Whether the release is by the wanted author: its author part names one of the surnames (the
 * title part naming them is not enough: "Sanderson's Guide by John Smith"); in `Title - Author`
 * order, or with no author part, the surname anywhere. null when no author is wanted.
 */
function authorNamed(author: string | null, parsed: ParsedRelease, releaseWords: string[]): boolean | null {
  const wanted = surnames(author);
  if (wanted.length === 0) return null;
  if (parsed.author !== null) {
    const byWords = words(parsed.author);
    if (wanted.some((surname) => byWords.includes(surname))) return true;
    if (parsed.form === "title_by_author") return false;
  }
  return wanted.some((surname) => releaseWords.includes(surname));
}

/** Why a release is not the wanted book, or how it is. */
function judge(wanted: WantedBook, release: Release, options: RankOptions): { reason: Decision["reason"]; detail: string } {
  if (release.protocol && release.protocol.toLowerCase() !== "torrent")
    return { reason: "not_torrent", detail: `protocol ${release.protocol}: only torrents go to qBittorrent` };
  if (!hasLink(release)) return { reason: "no_link", detail: "no download URL, magnet or info hash" };
  if (release.seeders <= 0) return { reason: "no_seeders", detail: "no seeders" };
  if (release.size > 0 && release.size < MIN_AUDIOBOOK_BYTES)
    return { reason: "too_small", detail: `${formatSize(release.size)} is not an audiobook` };
  if (release.size > MAX_AUDIOBOOK_BYTES) return { reason: "too_large", detail: `${formatSize(release.size)} is more than one audiobook` };
  const language = releaseLanguage(release.title);
  if (options.language && language && language !== options.language)
    return { reason: "language", detail: `in ${language}, not ${options.language} (RELEASE_LANGUAGE)` };

  const releaseWords = words(release.title);
  const parsed = parseReleaseTitle(release.title);
  const named = authorNamed(wanted.author, parsed, releaseWords);
  if (named === false)
    return {
      reason: "author_mismatch",
      detail: parsed.author ? `by ${parsed.author}, not ${wanted.author}` : `the title does not name the author (${wanted.author})`,
    };

  const seriesWords = wanted.seriesName ? words(wanted.seriesName) : null;
  const wantedTitleWords = words(wanted.title);
  const packWord = PACK_PATTERN.exec(release.title)?.[1];
  const wantedIsPack = packWord !== undefined && wantedTitleWords.includes(words(packWord)[0] ?? "");
  const { positions, range } = positionsIn(release.title, seriesWords);
  if (range || (packWord && !wantedIsPack))
    return { reason: "omnibus_pack", detail: range ? `a range of books (${positions.join(", ")})` : `a pack ("${packWord}")` };

  const wantedPosition = positionOf(wanted.seriesNumber);
  const seriesNamed = seriesWords !== null && indexOfWords(releaseWords, seriesWords) >= 0;
  if (seriesNamed && wantedPosition !== null && positions.length > 0) {
    if (positions.includes(wantedPosition) && positions.length === 1) {
      return { reason: "series_position", detail: `${wanted.seriesName} #${wantedPosition}` };
    }
    return { reason: "other_position", detail: `${wanted.seriesName} #${positions.join(", #")}, not #${wantedPosition}` };
  }
  if (namesTitle(release.title, wanted)) return { reason: "title", detail: `names "${wanted.title}"` };
  return {
    reason: "title_mismatch",
    detail: seriesNamed
      ? `names ${wanted.seriesName} but no position`
      : wanted.seriesName && wantedPosition !== null
        ? `neither "${wanted.title}" nor ${wanted.seriesName} #${wantedPosition}`
        : `does not name "${wanted.title}"`,
  };
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(1)} GB` : `${Math.round(bytes / MB)} MB`;
}

function sensible(size: number): boolean {
  return size >= SENSIBLE_BYTES.min && size <= SENSIBLE_BYTES.max;
}

/** Best first: freeleech, then seeders, then a sensible size, then the search's own order. */
function compare(a: { release: Release; index: number }, b: { release: Release; index: number }): number {
  return (
    Number(b.release.freeleech) - Number(a.release.freeleech) ||
    b.release.seeders - a.release.seeders ||
    Number(sensible(b.release.size)) - Number(sensible(a.release.size)) ||
    a.index - b.index
  );
}

export function rankReleases(wanted: WantedBook, releases: readonly Release[], options: RankOptions = {}): Ranking {
  const judged = releases.map((release, index) => ({ release, index, ...judge(wanted, release, options) }));
  // An abridged edition only when no unabridged one of the book was found.
  const isAccepted = (j: (typeof judged)[number]) => j.reason === "series_position" || j.reason === "title";
  if (judged.some((j) => isAccepted(j) && !isAbridged(j.release.title))) {
    for (const j of judged) {
      if (isAccepted(j) && isAbridged(j.release.title))
        Object.assign(j, { reason: "abridged", detail: "abridged; an unabridged edition was found" });
    }
  }
  const accepted = judged.filter((j) => j.reason === "series_position" || j.reason === "title").sort(compare);
  const refused = judged.filter((j) => j.reason !== "series_position" && j.reason !== "title");
  const decision = (j: (typeof judged)[number], rank: number | null): Decision => ({
    guid: j.release.guid,
    title: j.release.title,
    accepted: rank !== null,
    reason: j.reason,
    detail: j.detail,
    rank,
    freeleech: j.release.freeleech,
    seeders: j.release.seeders,
    size: j.release.size,
  });
  return {
    best: accepted[0]?.release ?? null,
    decisions: [...accepted.map((j, i) => decision(j, i + 1)), ...refused.map((j) => decision(j, null))],
  };
}
