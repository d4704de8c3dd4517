import { desc, inArray } from "drizzle-orm";
import type { Database } from "../../db/client";
import { bookRequests } from "../../db/schema";
import type { AudibleCatalogue, AudibleProduct } from "../../integrations/audible";
import type { Requester } from "./index";
import { gapCandidates, ownedCandidates, sameBook, type Wanted } from "./match";

/**
 * An ASIN as Audible writes them: "B0" and eight letters or digits ("B003ZWFO7E"), or an ISBN-10 for
 * some books ("1797101021"); a ten-letter word ("Marrowgate") is a search, not an ASIN.
 */
export const ASIN = /^(?:B0[A-Z0-9]{8}|\d{9}[\dX])$/i;

/**
 * The Audible catalogue by title, author or ASIN (GET /api/requests/search): one call to Audible
 * (an ASIN is looked up as itself, anything else is the catalogue's keyword search), then one D1
 * batch telling for each hit whether it is in the library, already requested (by whom for
 * operators and admins, or "you"), downloading, or wanted as a gap.
 */
export async function searchCatalogue(db: Database, catalogue: AudibleCatalogue, who: Requester, q: string) {
  const query = q.trim();
  const products = ASIN.test(query)
    ? [await catalogue.product(query.toUpperCase())].filter((p): p is AudibleProduct => p !== null)
    : await catalogue.keywords(query);
  if (products.length === 0) return { query, results: [] };
  const wanted: Wanted[] = products.map((p) => ({ asin: p.asin, title: p.title, authors: p.authors }));
  const [owned, gaps, requests] = await db.batch([
    ownedCandidates(db, wanted),
    gapCandidates(db, wanted),
    db
      .select()
      .from(bookRequests)
      .where(inArray(bookRequests.asin, [...new Set(wanted.map((w) => w.asin.toUpperCase()))]))
      .orderBy(desc(bookRequests.id)),
  ]);
  const staff = who.role !== "viewer";
  const results = products.map((product, i) => {
    const w = wanted[i]!;
    const book = owned.find((b) => sameBook(w, b));
    const gap = gaps.find((g) => sameBook(w, g));
    const request = requests.find((r) => r.asin === product.asin.toUpperCase());
    const mine = request ? (who.userId !== null ? request.requestedByUserId === who.userId : request.requestedBy === who.name) : false;
    return {
      asin: product.asin,
      title: product.title,
      subtitle: product.subtitle,
      authors: product.authors,
      series: product.series.map((s) => ({ name: s.title, position: s.sequence })),
      release_date: product.releaseDate,
      format: product.formatType,
      in_library: book ? { book_id: book.id } : null,
      request: request ? { id: request.id, status: request.status, mine, requested_by: staff || mine ? request.requestedBy : null } : null,
      downloading: gap?.downloadStatus === "queued" || gap?.downloadStatus === "downloading" || request?.status === "downloading",
      wanted: gap ? { missing_book_id: gap.id, reason: gap.reason, download_status: gap.downloadStatus } : null,
    };
  });
  return { query, results };
}
