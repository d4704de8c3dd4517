import { fakeUpstream, json } from "./fake-upstream";

/**
 * A fake Google Books API v1 that answers as the real one does: `GET /volumes?q=&key=` →
 * `{kind: "books#volumes", totalItems, items}`, with `items` absent when nothing matched, and
 * 400 `{error: {code, message}}` for a wrong key.
 */
export const GOOGLE_KEY = "AIzaSy-google-key-3f9c";
export const GOOGLE_URL = "https://books.fake.test/books/v1";

/** A Google Books volume as the API answers it. */
export function volume(id: string, info: Record<string, unknown>) {
  return {
    kind: "books#volume",
    id,
    etag: "x",
    selfLink: `${GOOGLE_URL}/volumes/${id}`,
    volumeInfo: { printType: "BOOK", language: "en", ...info },
    saleInfo: {},
    accessInfo: {},
  };
}

export const hobbit = volume("vol_hobbit", {
  title: "The Hobbit",
  subtitle: "Or There and Back Again",
  authors: ["J. R. R. Tolkien"],
  publisher: "HarperCollins",
  publishedDate: "2012-09-18",
  description: "Bilbo Baggins is a hobbit.",
  industryIdentifiers: [
    { type: "ISBN_10", identifier: "0007487282" },
    { type: "ISBN_13", identifier: "9780007487288" },
  ],
  pageCount: 320,
});

/** Google's own answer when the daily quota is spent. */
export const quotaExceeded = () =>
  json(
    {
      error: {
        code: 429,
        message: "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'",
        errors: [{ message: "Quota exceeded", domain: "global", reason: "rateLimitExceeded" }],
        status: "RESOURCE_EXHAUSTED",
      },
    },
    { status: 429 },
  );

/** A fake Google Books: `answers` by the exact `q`; anything else has no hit. Checks the key. */
export function fakeGoogle(answers: Record<string, unknown[]>, override?: (q: string, n: number) => Response | undefined) {
  let n = 0;
  return fakeUpstream((_, url) => {
    if (url.searchParams.get("key") !== GOOGLE_KEY) return json({ error: { code: 400, message: "API key not valid." } }, { status: 400 });
    const q = url.searchParams.get("q") ?? "";
    const special = override?.(q, ++n);
    if (special) return special;
    const items = answers[q];
    return json(items?.length ? { kind: "books#volumes", totalItems: items.length, items } : { kind: "books#volumes", totalItems: 0 });
  });
}
