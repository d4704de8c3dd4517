import { desc, eq, gte, inArray, or, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { selectJsonRows } from "../db/json-rows";
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
  const asked: { author: (typeof favourites)[number]; products: AudibleProduct[] }[] = [];
  let stopped: string | undefined;
  for (const author of favourites) {
    try {
      asked.push({ author, products: await catalogue.byAuthor(author.name) });
    } catch (error) {
      if (!(error instanceof UpstreamError) || asked.length === 0) throw error;
      stopped = error.detail ?? error.message;
      break;
    }
  }
  // What every asked author already has (owned or wanted) is read, and what is new written, in
  // one statement each: a run costs the same few D1 queries for one author or twenty (the Free
  // plan allows 50 an invocation; test/scheduler/free-plan.test.ts).
  const known = await knownTitles(
    db,
    asked.map(({ author }) => author),
  );
  const at = now.toISOString();
  const rows = asked.flatMap(({ author, products }) => {
    const titles = known.get(author.id) ?? new Set<string>();
    const fresh = new Map<string, AudibleProduct>();
    for (const product of products) {
      if (!product.authors.some((name) => sameAuthor(name, author.name))) continue;
      if (product.formatType?.toLowerCase() === "abridged") continue;
      const key = titleKey(product.title);
      if (key && !titles.has(key) && !fresh.has(key)) fresh.set(key, product);
    }
    return [...fresh.values()].map((product) => ({
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
  });
  // The rows travel as one JSON parameter (src/db/json-rows.ts), whatever their number.
  const [first, ...rest] = selectJsonRows(missingBooks, NEW_RELEASE_COLUMNS, rows).map((select) =>
    db
      .insert(missingBooks)
      .select(select)
      .onConflictDoNothing()
      .returning({ authorId: missingBooks.authorId, title: missingBooks.title, releaseDate: missingBooks.releaseDate }),
  );
  const inserted = first ? (await db.batch([first, ...rest])).flat() : [];
  const found = asked
    .map(({ author }) => ({
      author: author.name,
      titles: inserted.filter((row) => row.authorId === author.id).map((row) => ({ title: row.title, release_date: row.releaseDate })),
    }))
    .filter((entry) => entry.titles.length > 0);
  return {
    processed: asked.length,
    succeeded: asked.length,
    failed: 0,
    metadata: {
      authors_watched: favourites.length,
      authors_asked: asked.length,
      audible_calls: catalogue.calls,
      new_releases: inserted.length,
      found,
      ...(stopped ? { stopped } : {}),
    },
  };
}

const NEW_RELEASE_COLUMNS = [
  "title",
  "authorId",
  "authorName",
  "asin",
  "reasonMissing",
  "priority",
  "titleSource",
  "titleCheckedAt",
  "releaseDate",
] as const;

/**
 * Per author, the title keys of the books whose author names them and of the gaps that are
 * theirs (by id or by name): two statements in one batch, for every author at once.
 */
async function knownTitles(db: Database, asked: readonly { id: number; name: string }[]): Promise<Map<number, Set<string>>> {
  const known = new Map<number, Set<string>>();
  if (asked.length === 0) return known;
  const ids = inArray(
    authors.id,
    asked.map(({ id }) => id),
  );
  const named = (column: SQLiteColumn) => sql`lower(${column}) LIKE '%' || lower(${authors.name}) || '%'`;
  const [owned, gaps] = await db.batch([
    db.select({ id: authors.id, title: books.title }).from(authors).innerJoin(books, named(books.author)).where(ids),
    db
      .select({ id: authors.id, title: missingBooks.title })
      .from(authors)
      .innerJoin(missingBooks, or(eq(missingBooks.authorId, authors.id), named(missingBooks.authorName)))
      .where(ids),
  ]);
  for (const row of [...owned, ...gaps]) {
    const titles = known.get(row.id) ?? new Set<string>();
    titles.add(titleKey(row.title));
    known.set(row.id, titles);
  }
  return known;
}
