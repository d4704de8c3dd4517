import { desc, eq, gte, sql } from "drizzle-orm";
import { chunk } from "../db/batch";
import type { Database } from "../db/client";
import { authors, books, missingBooks } from "../db/schema";
import { UpstreamError } from "../integrations/http";
import type { TaskOutcome } from "../scheduler/tasks";
import type { Search } from "./acquire";
import { FAVORITE_MIN_BOOKS } from "./authors";
import { releasedTitle, titleKey } from "./releases";

/**
 * The AUTHOR_WATCH task (in place of the original's TOP10 scrape; DEPLOYMENT.md, "Scheduled tasks"): for
 * the favourite authors (owning at least FAVORITE_MIN_BOOKS books), search Prowlarr by name; each
 * single-book release of the author whose title is neither in the catalogue nor already a gap
 * becomes a `missing_books` row (reason `new_release`), which ACQUIRE then fetches like any gap.
 * A unique index keeps a title from being added twice, even by two runs at once.
 */

/** Authors searched per run (the most-owned first): a search each. */
export const AUTHORS_PER_RUN = 20;
const ROWS_PER_INSERT = 19;

export async function watchAuthors(db: Database, search: Search): Promise<TaskOutcome> {
  const favourites = await db
    .select({ id: authors.id, name: authors.name })
    .from(authors)
    .where(gte(authors.audiobooksOwned, FAVORITE_MIN_BOOKS))
    .orderBy(desc(authors.audiobooksOwned), authors.name)
    .limit(AUTHORS_PER_RUN);
  let searched = 0;
  let added = 0;
  const found: { author: string; titles: string[] }[] = [];
  let stopped: string | undefined;
  for (const author of favourites) {
    let releases;
    try {
      releases = (await search(author.name)).releases;
    } catch (error) {
      if (!(error instanceof UpstreamError) || searched === 0) throw error;
      stopped = error.detail ?? error.message;
      break;
    }
    searched++;
    const [owned, gaps] = await db.batch([
      db.select({ title: books.title }).from(books).where(sql`lower(${books.author}) = lower(${author.name})`),
      db.select({ title: missingBooks.title }).from(missingBooks).where(eq(missingBooks.authorId, author.id)),
    ]);
    const known = new Set([...owned, ...gaps].map((row) => titleKey(row.title)));
    const fresh = new Map<string, string>();
    for (const release of releases) {
      const title = releasedTitle(release, author.name);
      if (!title) continue;
      const key = titleKey(title);
      if (!known.has(key) && !fresh.has(key)) fresh.set(key, title);
    }
    if (fresh.size === 0) continue;
    // Five bound parameters a row: slices within D1's 100, written together.
    const rows = [...fresh.values()].map((title) => ({
      title,
      authorId: author.id,
      authorName: author.name,
      reasonMissing: "new_release" as const,
      priority: 2,
    }));
    const [first, ...rest] = chunk(rows, ROWS_PER_INSERT).map((slice) =>
      db.insert(missingBooks).values(slice).onConflictDoNothing().returning({ title: missingBooks.title }),
    );
    const inserted = (await db.batch([first!, ...rest])).flat();
    added += inserted.length;
    if (inserted.length > 0) found.push({ author: author.name, titles: inserted.map((row) => row.title) });
  }
  return {
    processed: searched,
    succeeded: searched,
    failed: 0,
    metadata: {
      authors_watched: favourites.length,
      authors_searched: searched,
      new_releases: added,
      found,
      ...(stopped ? { stopped } : {}),
    },
  };
}
