/**
 * What a release's title says, in the orders indexers write it:
 * - MyAnonamouse through Prowlarr: `{title} by {first author} [{lang} / {filetype}]`, plus ` [VIP]`
 *   (Prowlarr's Indexers/Definitions/MyAnonamouse.cs builds it so: no series, no position);
 * - other indexers: `Author - Title` and `Author - Series 03 - Title`;
 * - anything else: the bare title.
 * Bracketed tags are set aside; `abridged` is read from the whole title ("Unabridged" is not).
 */

const ARTICLES = new Set(["the", "a", "an"]);

/** Lower-case words without accents, punctuation or articles; numbers without leading zeros. */
export function words(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/['’`]/g, "")
    .split(/[^a-z0-9]+/)
    .filter((word) => word && !ARTICLES.has(word))
    .map((word) => (/^\d+$/.test(word) ? String(Number(word)) : word));
}

/** Where `needle` occurs as consecutive words of `haystack`, or -1. */
export function indexOfWords(haystack: string[], needle: string[]): number {
  if (needle.length === 0) return -1;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The words that identify a title for comparison: no subtitle, normalised. */
export function titleKey(title: string): string {
  // "Words of Radiance (Dramatized Adaptation)" is an edition of "Words of Radiance".
  const bare = title.replace(/\([^)]*\)|\[[^\]]*\]/g, " ");
  return words(bare.split(/:|\s[-–—]\s/)[0] ?? bare).join(" ");
}

export type ReleaseForm = "title_by_author" | "author_title" | "author_series_title" | "bare";

export interface ParsedRelease {
  form: ReleaseForm;
  /** The title part, without tags, author or series. */
  title: string;
  /** The author part, when the form names one. */
  author: string | null;
  /** `Author - Series 03 - Title`'s series and position. */
  series: string | null;
  position: string | null;
  vip: boolean;
  abridged: boolean;
}

const TAGS = /\[[^\]]*\]|\{[^}]*\}/g;
const DASH = /\s+[-–—]\s+/;
/** " by " before the author; the last one, since a title may hold one ("Stand by Me by ..."). */
const BY = /\s(?:written\s+)?by\s/gi;
/** A series part ending in its position: "Mistborn 02", "The Expanse, Book 3", "Discworld #7". */
const SERIES_POSITION = /^(.*?)[\s,]*(?:(?:book|bk|vol(?:ume)?|no|#)\.?\s*)?#?(\d{1,3}(?:\.\d+)?)$/i;

export function isAbridged(title: string): boolean {
  return /\babridged\b/i.test(title.replace(/\bunabridged\b/gi, ""));
}

export function parseReleaseTitle(raw: string): ParsedRelease {
  const vip = /\[\s*VIP\s*\]/i.test(raw);
  const abridged = isAbridged(raw);
  const main = raw.replace(TAGS, " ").replace(/\s+/g, " ").trim();
  const base = { vip, abridged, series: null, position: null };

  const bys = [...main.matchAll(BY)];
  const by = bys.at(-1);
  if (by?.index !== undefined && by.index > 0) {
    const author = main
      .slice(by.index + by[0].length)
      .replace(/\(.*\)\s*$/, "")
      .trim();
    if (author) return { ...base, form: "title_by_author", title: main.slice(0, by.index).trim(), author };
  }

  const parts = main
    .split(DASH)
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length >= 3) {
    const seriesPart = SERIES_POSITION.exec(parts[1]!);
    if (seriesPart?.[1]) {
      return {
        ...base,
        form: "author_series_title",
        author: parts[0]!,
        series: seriesPart[1].trim(),
        position: String(Number(seriesPart[2])),
        title: parts.slice(2).join(" - "),
      };
    }
  }
  if (parts.length >= 2) return { ...base, form: "author_title", author: parts[0]!, title: parts.slice(1).join(" - ") };
  return { ...base, form: "bare", title: main, author: null };
}
