import { and, inArray, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { selectJsonRows } from "../../db/json-rows";
import { downloads, missingBooks } from "../../db/schema";
import { ConflictError } from "../../errors";
import { ACTIVE_STATUSES } from "../download-states";
import { type DownloadCreateInput, syncGap } from "./json";
import { duplicateOf, newDownload, storedLinks } from "./writes";

/** A download for a gap, as ACQUIRE queues it: each gap at most once a call. */
export type GapDownloadInput = DownloadCreateInput & { missing_book_id: number };

/** Queued, or why not (the 409 createDownload would have answered). */
export type GapDownloadResult = { download_id: number } | { conflict: ConflictError };

type Row = ReturnType<typeof newDownload> & { missingBookId: number };
const COLUMNS = [
  "missingBookId",
  "bookId",
  "title",
  "author",
  "source",
  "magnetLink",
  "torrentUrl",
  "metadataJson",
] as const satisfies (keyof Row)[];

/** A field of the JSON row being inserted (src/db/json-rows.ts). */
const field = (name: (typeof COLUMNS)[number]) => sql.raw(`json_extract(value, '$[${COLUMNS.indexOf(name)}]')`);
const jsonList = (values: readonly unknown[]) => sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
type Links = { magnetLink: string | null; torrentUrl: string | null };
const sameLink = (a: Links, b: Links) =>
  (a.magnetLink !== null && a.magnetLink === b.magnetLink) || (a.torrentUrl !== null && a.torrentUrl === b.torrentUrl);

/**
 * Queues the downloads of several gaps at once, with createDownload's rules (./writes.ts): links as
 * stored there, never a link that an active download has (the check and the insert one statement),
 * never for a gap filled or gone meanwhile, and each gap in the state of its download in the same
 * batch. Two D1 statements however many, where one createDownload is five: ACQUIRE's run shares
 * the Free plan's 50 queries with the QUEUE at 01:30 (test/scheduler/free-plan.test.ts). A link
 * given twice here is queued for its first gap. The answers are in the order of `inputs`.
 */
export async function createGapDownloads(
  db: Database,
  inputs: readonly GapDownloadInput[],
  prowlarrUrl: string | undefined,
): Promise<GapDownloadResult[]> {
  const rows: Row[] = inputs.map((input) => {
    const { magnet, url } = storedLinks(input, prowlarrUrl);
    return { ...newDownload(input, magnet, url), missingBookId: input.missing_book_id };
  });
  const gapIds = rows.map((row) => row.missingBookId);
  if (new Set(gapIds).size !== gapIds.length) throw new Error("A gap is given twice");
  // One statement reads the table as it was before it: a link given twice is found here.
  const firstWith = rows.map((row) => rows.findIndex((other) => sameLink(other, row)));
  const fresh = rows.filter((_, i) => firstWith[i] === i);
  if (fresh.length === 0) return [];

  const open = sql`EXISTS (SELECT 1 FROM ${missingBooks} WHERE ${missingBooks.id} = ${field("missingBookId")} AND ${isNull(missingBooks.bookId)})`;
  const active = sql`EXISTS (SELECT 1 FROM ${downloads} WHERE ${inArray(downloads.status, ACTIVE_STATUSES)} AND (${downloads.magnetLink} = ${field("magnetLink")} OR ${downloads.torrentUrl} = ${field("torrentUrl")}))`;
  const [first, ...rest] = selectJsonRows(downloads, COLUMNS, fresh).map((select) =>
    db
      .insert(downloads)
      .select(sql`${select} AND ${open} AND NOT ${active}`)
      .returning({ id: downloads.id, missingBookId: downloads.missingBookId }),
  );
  const written = await db.batch([first!, ...rest, syncGap(db, gapIds)]);
  const inserted = new Map<number, number>();
  for (const result of written.slice(0, -1) as { id: number; missingBookId: number | null }[][])
    for (const row of result) inserted.set(row.missingBookId!, row.id);

  const refused = fresh.filter((row) => !inserted.has(row.missingBookId));
  const why = refused.length > 0 ? await reasons(db, refused) : new Map<Row, ConflictError>();
  const answers: GapDownloadResult[] = fresh.map((row) => {
    const id = inserted.get(row.missingBookId);
    return id !== undefined ? { download_id: id } : { conflict: why.get(row)! };
  });
  return rows.map((row, i) => {
    const firstRow = rows[firstWith[i]!]!;
    const answer = answers[fresh.indexOf(firstRow)]!;
    if (firstRow === row || "conflict" in answer) return answer;
    return { conflict: duplicateOf({ id: answer.download_id, status: "queued", magnetLink: firstRow.magnetLink }, row.magnetLink) };
  });
}

/** Why each of `rows` was not inserted: an active download of its link, or its gap filled or gone. */
async function reasons(db: Database, rows: Row[]): Promise<Map<Row, ConflictError>> {
  const links: SQL[] = [];
  const magnets = rows.flatMap((row) => (row.magnetLink ? [row.magnetLink] : []));
  const urls = rows.flatMap((row) => (row.torrentUrl ? [row.torrentUrl] : []));
  if (magnets.length > 0) links.push(sql`${downloads.magnetLink} IN ${jsonList(magnets)}`);
  if (urls.length > 0) links.push(sql`${downloads.torrentUrl} IN ${jsonList(urls)}`);
  const [holders, gaps] = await db.batch([
    db
      .select({ id: downloads.id, status: downloads.status, magnetLink: downloads.magnetLink, torrentUrl: downloads.torrentUrl })
      .from(downloads)
      .where(and(inArray(downloads.status, ACTIVE_STATUSES), or(...links))),
    db
      .select({ id: missingBooks.id, bookId: missingBooks.bookId })
      .from(missingBooks)
      .where(sql`${missingBooks.id} IN ${jsonList(rows.map((row) => row.missingBookId))}`),
  ]);
  return new Map(
    rows.map((row) => {
      const holder = holders.find((h) => sameLink(h, row));
      if (holder) return [row, duplicateOf(holder, row.magnetLink)];
      const gap = gaps.find((g) => g.id === row.missingBookId);
      if (gap?.bookId != null) {
        return [
          row,
          new ConflictError(`Missing book ${gap.id} is already in the library as book ${gap.bookId}`, "conflict", {
            missing_book_id: gap.id,
            book_id: gap.bookId,
          }),
        ];
      }
      const detail = gap ? "changed while it was queued; run again" : "no longer exists";
      return [row, new ConflictError(`Missing book ${row.missingBookId} ${detail}`, "conflict", { missing_book_id: row.missingBookId })];
    }),
  );
}
