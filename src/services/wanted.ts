import type { MissingBook } from "../db/schema";

// What a gap wants, for acquisition (./acquire.ts): the book as the ranking reads it, as the dry run
// answers it, and the words searched for.

/** What a gap wants, as the ranking reads it. */
export function wantedOf(gap: MissingBook) {
  return { title: gap.title, author: gap.authorName, seriesName: gap.seriesName, seriesNumber: gap.seriesNumber };
}

/** A series gap whose title is only its place ("Saga #3"): no catalogue knew the book's real title. */
export function titleUnknown(gap: Pick<MissingBook, "title" | "seriesName" | "seriesNumber">): boolean {
  return gap.seriesName !== null && gap.title === `${gap.seriesName} #${gap.seriesNumber}`;
}

export interface WantedJson {
  title: string;
  author: string | null;
  series: string | null;
  position: string | null;
  /** Where the title came from: the Audible catalogue, a release name, only the library's positions (no real title), or by hand. */
  title_source: NonNullable<MissingBook["titleSource"]>;
  title_checked_at: string | null;
}

export function wantedJson(gap: MissingBook): WantedJson {
  return {
    title: gap.title,
    author: gap.authorName,
    series: gap.seriesName,
    position: gap.seriesNumber,
    title_source: gap.titleSource ?? (titleUnknown(gap) ? "library" : gap.reasonMissing === "new_release" ? "release" : "hand"),
    title_checked_at: gap.titleCheckedAt,
  };
}

/**
 * The search words: the wanted title (without a subtitle) and the author's surname, since an
 * indexer like MyAnonamouse matches only titles and authors, never a series. A gap whose title is
 * unknown can only ask for its series.
 */
export function queryOf(gap: MissingBook): string {
  const surname = gap.authorName?.split(/,|&/)[0]?.trim().split(/\s+/).at(-1) ?? "";
  const subject = titleUnknown(gap) && gap.seriesName ? gap.seriesName : (gap.title.split(/:|\s[-–—]\s/)[0] ?? gap.title).trim();
  return `${subject} ${surname}`.trim();
}
