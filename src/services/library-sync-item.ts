import type { SeriesEntry } from "../db/schema";
import type { AbsLibraryItem } from "../integrations/audiobookshelf";
import type { BookImportRow } from "./books";

// An Audiobookshelf item as a row of the import, within the catalogue's bounds (src/services/library-sync.ts syncs them).

/** The source named in metadata_source for the fields ABS supplied. */
export const ABS_SOURCE = "Audiobookshelf";

/** Field bounds of the catalogue (src/routes/books.schemas.ts), applied to what ABS sends. */
const MAX = {
  title: 500,
  subtitle: 500,
  author: 500,
  series: 500,
  series_number: 50,
  isbn: 50,
  asin: 50,
  publisher: 500,
  description: 20_000,
  narrator: 255,
} as const;

function clip(value: string | null | undefined, max: number): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : undefined;
}

function yearOf(value: string | number | null | undefined): number | undefined {
  const year = Number.parseInt(String(value ?? ""), 10);
  return year >= 1000 && year <= 3000 ? year : undefined;
}

/** Genres kept per book, and the length of one. */
const MAX_GENRES = 20;
const MAX_GENRE = 100;

/**
 * The series of an item, ABS's primary first: expanded items list them ({name, sequence});
 * minified ones carry them as one string, "Name #3, Other Name #1" (ABS's BookMetadata.seriesName).
 * A minified name that itself holds ", " stays whole unless a "#sequence" precedes the comma.
 */
function seriesOf(meta: AbsLibraryItem["media"]["metadata"]): SeriesEntry[] {
  const listed = meta.series ?? (meta.seriesName?.trim() ? meta.seriesName.trim().split(/(?<=#\S+),\s+/) : []).map(parseSeriesName);
  const entries: SeriesEntry[] = [];
  for (const entry of listed) {
    const name = clip(entry.name, MAX.series);
    if (name && !entries.some((e) => e.name.toLowerCase() === name.toLowerCase()))
      entries.push({ name, sequence: clip(entry.sequence, MAX.series_number) ?? null });
  }
  return entries;
}

function parseSeriesName(text: string): SeriesEntry {
  const match = /^(.*?)(?:\s+#(\S+))?$/.exec(text.trim())!;
  return { name: match[1]!, sequence: match[2] ?? null };
}

/** Trimmed, without repeats (case-insensitively), at most MAX_GENRES. */
function genresOf(genres: string[] | undefined): string[] | undefined {
  const kept: string[] = [];
  for (const genre of genres ?? []) {
    const name = clip(genre, MAX_GENRE);
    if (name && !kept.some((g) => g.toLowerCase() === name.toLowerCase())) kept.push(name);
  }
  return kept.length > 0 ? kept.slice(0, MAX_GENRES) : undefined;
}

/**
 * A library item as an import row. Only the fields ABS has a value for are sent, so a field
 * filled elsewhere (a Google Books correction, an edit) is kept when ABS has nothing for it.
 * Several authors or narrators are joined as ABS shows them ("A, B"). Of several series the
 * first (ABS's primary) is the book's series, with its sequence; the others are kept in
 * additional_series.
 */
export function importRowOf(item: AbsLibraryItem): BookImportRow {
  const meta = item.media.metadata;
  const authors =
    meta.authors
      ?.map((a) => a.name.trim())
      .filter(Boolean)
      .join(", ") || meta.authorName;
  const narrators =
    meta.narrators
      ?.map((n) => n.trim())
      .filter(Boolean)
      .join(", ") || meta.narratorName;
  const [primary, ...others] = seriesOf(meta);
  const duration = item.media.duration;
  const fields: Omit<BookImportRow, "abs_id" | "title"> = {
    author: clip(authors, MAX.author),
    narrator: clip(narrators, MAX.narrator),
    series: primary?.name,
    series_number: primary?.sequence ?? undefined,
    additional_series: others.length > 0 ? others : undefined,
    subtitle: clip(meta.subtitle, MAX.subtitle),
    genres: genresOf(meta.genres),
    isbn: clip(meta.isbn, MAX.isbn),
    asin: clip(meta.asin, MAX.asin),
    publisher: clip(meta.publisher, MAX.publisher),
    published_year: yearOf(meta.publishedYear),
    duration_minutes: typeof duration === "number" && duration > 0 ? Math.round(duration / 60) : undefined,
    description: clip(meta.description, MAX.description),
  };
  const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return {
    abs_id: item.id,
    title: clip(meta.title, MAX.title) ?? "Untitled",
    ...present,
    import_source: "audiobookshelf",
    metadata_source: Object.fromEntries(["title", ...Object.keys(present)].map((field) => [field, ABS_SOURCE])),
  };
}
