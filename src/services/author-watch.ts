import { desc, gte, or, sql } from "drizzle-orm";
import { chunk } from "../db/batch";
import type { Database } from "../db/client";
import { authors, books, missingBooks } from "../db/schema";
import type { AudibleCatalogue, AudibleProduct } from "../integrations/audible";
import { UpstreamError } from "../integrations/http";
import type { TaskOutcome } from "../scheduler/tasks";
import { FAVORITE_MIN_BOOKS } from "./authors";
import { titleKey, words } from "./release-title";

/**
 * The AUTHOR_WATCH task (in place of the original's TOP10 scrape; DEPLOYMENT.md, "Scheduled tasks"):
 * for the favourite authors (owning at least FAVORITE_MIN_BOOKS books), their books in the Audible
 * catalogue, released or announced, newest first. Each one whose title is neither in the library
 * nor already a gap becomes a `missing_books` row (reason `new_release`) with its real title, ASIN
 * and release date; acquisition does not search for it before that date. Abridged editions are
 * left out. One call per author; a 429 ends the run with what was found written. A unique index
 * keeps a title from being added twice, even by two runs at once.
 */

/** Authors asked per run (the most-owned first): one call each, within the tick's share of subrequests. */
export const AUTHORS_PER_RUN = 20;
/** Nine bound parameters a row: slices within D1's 100. */
const ROWS_PER_INSERT = 11;

/** The same person, written the same way or nearly ("James S.A. Corey" = "James S. A. Corey"). */
function sameAuthor(a: string, b: string): boolean {
  return words(a).join("") === words(b).join("");
}

export async function watchAuthors(db: Database, catalogue: AudibleCatalogue, now = new Date()): Promise<TaskOutcome> {
  const favourites = await db
    .select({ id: authors.id, name: authors.name })
    .from(authors)
    .where(gte(authors.audiobooksOwned, FAVORITE_MIN_BOOKS))
    .orderBy(desc(authors.audiobooksOwned), authors.name)
    .limit(AUTHORS_PER_RUN);
  let asked = 0;
  let added = 0;
  const found: { author: string; titles: { title: string; release_date: string | null }[] }[] = [];
  let stopped: string | undefined;
  const at = now.toISOString();
  for (const author of favourites) {
    let products: AudibleProduct[];
    try {
      products = await catalogue.byAuthor(author.name);
    } catch (error) {
      if (!(error instanceof UpstreamError) || asked === 0) throw error;
      stopped = error.detail ?? error.message;
      break;
    }
    asked++;
    const like = sql`'%' || lower(${author.name}) || '%'`;
    const [owned, gaps] = await db.batch([
      db.select({ title: books.title }).from(books).where(sql`lower(${books.author}) LIKE ${like}`),
      db
        .select({ title: missingBooks.title })
        .from(missingBooks)
        .where(or(sql`${missingBooks.authorId} = ${author.id}`, sql`lower(${missingBooks.authorName}) LIKE ${like}`)),
    ]);
    const known = new Set([...owned, ...gaps].map((row) => titleKey(row.title)));
    const fresh = new Map<string, AudibleProduct>();
    for (const product of products) {
      if (!product.authors.some((name) => sameAuthor(name, author.name))) continue;
      if (product.formatType?.toLowerCase() === "abridged") continue;
      const key = titleKey(product.title);
      if (key && !known.has(key) && !fresh.has(key)) fresh.set(key, product);
    }
    if (fresh.size === 0) continue;
    const rows = [...fresh.values()].map((product) => ({
      title: product.title,
      authorId: author.id,
      authorName: author.name,
      asin: product.asin,
      reasonMissing: "new_release" as const,
      priority: 2,
      titleSource: "catalogue" as const,
      titleCheckedAt: at,
      releaseDate: product.releaseDate,
    }));
    const [first, ...rest] = chunk(rows, ROWS_PER_INSERT).map((slice) =>
      db
        .insert(missingBooks)
        .values(slice)
        .onConflictDoNothing()
        .returning({ title: missingBooks.title, releaseDate: missingBooks.releaseDate }),
    );
    const inserted = (await db.batch([first!, ...rest])).flat();
    added += inserted.length;
    if (inserted.length > 0) {
      found.push({ author: author.name, titles: inserted.map((row) => ({ title: row.title, release_date: row.releaseDate })) });
    }
  }
  return {
    processed: asked,
    succeeded: asked,
    failed: 0,
    metadata: {
      authors_watched: favourites.length,
      authors_asked: asked,
      audible_calls: catalogue.calls,
      new_releases: added,
      found,
      ...(stopped ? { stopped } : {}),
    },
  };
}
