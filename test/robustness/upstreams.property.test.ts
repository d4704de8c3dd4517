import { env } from "cloudflare:workers";
import { eq, isNotNull } from "drizzle-orm";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, catalogueSeries, downloads, metadataCorrections, missingBooks, series, tasks } from "../../src/db/schema";
import { checkLink } from "../../src/services/downloads/links";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem } from "../integrations/fake-abs";
import { AUDIBLE_URL } from "../integrations/fake-audible";
import { GOOGLE_KEY, GOOGLE_URL, volume } from "../integrations/fake-google-books";
import { PROWLARR, prowlarrRelease } from "../integrations/fake-prowlarr";
import { QB_KEY, QB_URL } from "../integrations/fake-qbittorrent";
import { fakeUpstream, json } from "../integrations/fake-upstream";

/**
 * Property (issue 23): whatever Audiobookshelf, Prowlarr, qBittorrent, Google Books and the Audible catalogue answer
 * (the documented shape with hostile values, any JSON, HTML, an error status, a redirect, an
 * answer that never ends), a library sync, a search and acquisition, the QUEUE task, a
 * metadata correction and the CATALOGUE task with the gap analysis after it answer without a 500 (an outside failure is a 502, a task run that fails
 * names an outside service, never "Unexpected error"), nothing is stored past its field's bound,
 * no control character is stored, no link qBittorrent must not fetch reaches it, and each run
 * makes a bounded number of outside calls (counted, not timed).
 *
 * RUNS per flow (`npm run fuzz`: FUZZ_SCALE=10 times as many). fast-check prints the seed and the
 * counterexample on failure; pass `{ seed, path }` to the failing fc.assert to replay it.
 */

const SCALE = Math.max(1, Number(env.FUZZ_SCALE) || 1);
const RUNS = 12 * SCALE;
const TIMEOUT_MS = 120_000 * SCALE;

const db = primaryDatabase(env);
const app = withEnv({
  ABS_URL,
  ABS_TOKEN,
  ...PROWLARR,
  QB_URL,
  QB_API_KEY: QB_KEY,
  QB_MAX_ACTIVE: "4",
  GOOGLE_BOOKS_API_KEY: GOOGLE_KEY,
  GOOGLE_BOOKS_URL: GOOGLE_URL,
  AUDIBLE_URL,
  UPSTREAM_TIMEOUT_MS: "3000",
});
async function post(path: string, body?: unknown) {
  const res = await app(path, { method: "POST", auth: true, ...(body === undefined ? {} : { json: body }) });
  return { status: res.status, body: (await res.json()) as any };
}

afterEach(() => vi.restoreAllMocks());

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

const CONTROL_CHARACTERS = "\u0000\u0001\u0007\u0008\u000b\u000c\u001b\u001f\u007f";
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this test's job
const STORED_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const HOSTILE_LINKS = [
  "http://169.254.169.254/latest/meta-data/",
  "file:///etc/passwd",
  "http://127.0.0.1:8080/api/v2/app/shutdown",
  "javascript:alert(1)",
  "data:application/x-bittorrent;base64,ZA==",
  "https://tracker.example.test/dl.php?id=1&passkey=0123456789abcdef",
  `http://user:pw@${new URL(PROWLARR.PROWLARR_URL).host}/4/download?link=x`,
  `${PROWLARR.PROWLARR_URL}/4/download?apikey=${PROWLARR.PROWLARR_API_KEY}&link=ok&file=Book`,
  `${PROWLARR.PROWLARR_URL}/4/download?link=\u0000`,
  `magnet:?xt=urn:btih:${"a".repeat(40)}&tr=https%3A%2F%2Ft.test%2Fannounce.php%3Fpasskey%3Dsecret`,
  "magnet:?xt=urn:btih:zz",
];

/** A text an upstream might send: ordinary, with control characters, very long, odd Unicode, a link. */
const nasty: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...CONTROL_CHARACTERS), fc.string({ maxLength: 10 }))
    .map(([a, c, b]) => `${a}${c}${b}`),
  fc.constantFrom(600, 2_100, 25_000, 200_000).map((n) => "x".repeat(n)),
  fc.constantFrom("", " ", "\ud800", "😀", "\u202e", "\r\n", ...HOSTILE_LINKS),
);

/**
 * A field's value: mostly the type the service documents with hostile content, sometimes
 * anything (so that some items of an answer are whole, and are stored, and others are not).
 */
const wild = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
const text = fc.oneof({ weight: 40, arbitrary: nasty }, wild);
const number = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: -10, max: 1e6 }) },
  { weight: 2, arbitrary: fc.constantFrom(1e9, 1e300, -1, 0.5, 2 ** 53) },
  fc.double(),
  nasty,
  fc.constant(null),
);
/** A list the service documents (mostly), or one hostile value where the list should be. */
const listOf = <T>(item: fc.Arbitrary<T>, maxLength: number) => fc.oneof({ weight: 9, arbitrary: fc.array(item, { maxLength }) }, text);

type Answer = { kind: "json"; body: unknown } | { kind: "text"; body: string } | { kind: "status"; status: number } | { kind: "endless" };

/** The documented shape with hostile values, or any JSON, HTML, an error, a redirect, or an answer that never ends. */
function answerOf(valid: fc.Arbitrary<unknown>): fc.Arbitrary<Answer> {
  return fc.oneof(
    { weight: 8, arbitrary: valid.map((body) => ({ kind: "json" as const, body })) },
    fc.jsonValue({ maxDepth: 3 }).map((body) => ({ kind: "json" as const, body })),
    fc.constantFrom<Answer>(
      { kind: "text", body: "<html>Access login</html>" },
      { kind: "text", body: "Ok." },
      { kind: "status", status: 500 },
      { kind: "status", status: 401 },
      { kind: "status", status: 302 },
      { kind: "endless" },
    ),
  );
}

function respond(answer: Answer): Response {
  switch (answer.kind) {
    case "json":
      return json(answer.body);
    case "text":
      return new Response(answer.body);
    case "status":
      return new Response("no", { status: answer.status, headers: answer.status === 302 ? { Location: "https://login.test/" } : {} });
    case "endless": {
      const chunk = new TextEncoder().encode(`[${'"x",'.repeat(16_000)}`);
      return new Response(new ReadableStream({ pull: (controller) => controller.enqueue(chunk) }));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What may be stored
// ---------------------------------------------------------------------------------------------

/** Every string in a value (rows, JSON columns), with where it was found. */
function* strings(value: unknown, at: string): Generator<[string, string]> {
  if (typeof value === "string") yield [at, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${at}.${i}`);
  else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) yield* strings(item, `${at}.${key}`);
}

const BOUNDS: Record<string, Record<string, number>> = {
  books: {
    title: 500,
    subtitle: 500,
    author: 500,
    series: 500,
    seriesNumber: 50,
    isbn: 50,
    asin: 50,
    publisher: 500,
    description: 20_000,
    narrator: 255,
    absId: 100,
  },
  downloads: { title: 500, source: 100, author: 500, magnetLink: 10_000, torrentUrl: 2_048, qbittorrentStatus: 100, qbittorrentHash: 64 },
  missing_books: { title: 500, seriesNumber: 50, releaseDate: 10 },
  catalogue_series: { seriesAsin: 20, audibleTitle: 500 },
};

/** `links: false` where the test itself stored links the rules refuse (rows from before them). */
async function assertStoredWithinLimits({ links = true } = {}) {
  const tables = {
    books: await db.select().from(books),
    downloads: await db.select().from(downloads),
    missing_books: await db.select().from(missingBooks),
    metadata_corrections: await db.select().from(metadataCorrections),
    tasks: await db.select().from(tasks),
    catalogue_series: await db.select().from(catalogueSeries),
  };
  for (const [table, rows] of Object.entries(tables)) {
    for (const [at, value] of strings(rows, table)) expect(value, `${at} holds a control character`).not.toMatch(STORED_CONTROL);
    for (const row of rows as Record<string, unknown>[]) {
      for (const [column, max] of Object.entries(BOUNDS[table] ?? {})) {
        const value = row[column];
        if (typeof value === "string") expect(value.length, `${table}.${column}`).toBeLessThanOrEqual(max);
      }
    }
  }
  for (const row of tables.downloads) {
    for (const link of [row.magnetLink, row.torrentUrl]) {
      if (!link || !links) continue;
      const checked = checkLink(link, PROWLARR.PROWLARR_URL);
      expect(checked.ok, `a stored link qBittorrent must not fetch: ${link.slice(0, 80)}`).toBe(true);
      expect(link).not.toContain(PROWLARR.PROWLARR_API_KEY);
    }
    expect(row.progress ?? 0).toBeGreaterThanOrEqual(0);
    expect(row.progress ?? 0).toBeLessThanOrEqual(1);
  }
  // The catalogue's members: ids Audible's size, titles the catalogue's, dates as dates, positions a series can have.
  for (const row of tables.catalogue_series) {
    expect(row.total ?? 0).toBeLessThanOrEqual(10_000);
    for (const member of row.members) {
      expect(member.asin.length).toBeLessThanOrEqual(20);
      expect((member.title ?? "").length).toBeLessThanOrEqual(500);
      expect(member.release_date ?? "2000-01-01").toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Number(member.position)).toBeLessThanOrEqual(10_000);
    }
  }
}

/** A 5xx other than an outside service's 502/503 is a bug; so is a 4xx the caller did not cause. */
function expectHandled(status: number, body: unknown) {
  expect([200, 502, 503], JSON.stringify(body).slice(0, 300)).toContain(status);
}

// ---------------------------------------------------------------------------------------------
// The flows
// ---------------------------------------------------------------------------------------------

const SERIES = "Hostile Expanse";
const AUTHOR = "James S. A. Corey";

beforeAll(async () => {
  // A gap to search for: a series of 3 with books 1 and 3.
  await db.insert(series).values({ name: SERIES, author: AUTHOR, totalBooksInSeries: 3 });
  await db.insert(books).values([
    { title: "Leviathan Wakes", series: SERIES, seriesNumber: "1", author: AUTHOR },
    { title: "Abaddon's Gate", series: SERIES, seriesNumber: "3", author: AUTHOR },
  ]);
  fakeUpstream(() => json([]));
  expect((await post("/api/gaps/analyze")).status).toBe(200);
  vi.restoreAllMocks();
});

describe("hostile upstream answers (issue 23)", () => {
  it("library sync: Audiobookshelf", { timeout: TIMEOUT_MS }, async () => {
    const seen = { created: 0 };
    const item = fc
      .record({
        id: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, nasty),
        title: text,
        subtitle: text,
        authorName: text,
        authors: listOf(fc.record({ name: text }), 3),
        narrators: listOf(text, 3),
        seriesName: text,
        series: fc.oneof(fc.array(fc.record({ name: text, sequence: text }), { maxLength: 3 }), fc.constant(undefined)),
        genres: listOf(text, 5),
        description: text,
        publisher: text,
        isbn: text,
        asin: text,
        publishedYear: text,
        duration: number,
      })
      .map(({ id, duration, ...metadata }) => absItem(String(id), metadata, duration as number));
    const libraries = answerOf(
      fc.record({
        libraries: fc.array(
          fc.record({
            id: fc.oneof({ weight: 4, arbitrary: fc.constant("lib_books") }, nasty),
            name: text,
            mediaType: fc.constantFrom("book", "book", "podcast", 1),
          }),
          {
            maxLength: 3,
          },
        ),
      }),
    );
    const page = answerOf(fc.record({ results: fc.array(item, { maxLength: 4 }), total: number, limit: number, page: number }));
    await fc.assert(
      fc.asyncProperty(libraries, page, async (librariesAnswer, pageAnswer) => {
        vi.restoreAllMocks();
        const fake = fakeUpstream((_, url) => respond(url.pathname === "/api/libraries" ? librariesAnswer : pageAnswer));
        const { status, body } = await post("/api/library/sync");
        expectHandled(status, body);
        if (status === 200 && body.data.created > 0) seen.created++;
        // Libraries read at most 100; pages at most 200 (100,000 items); 3 attempts a read.
        expect(fake.calls.length).toBeLessThanOrEqual(3 * (1 + 100 * 201));
        await assertStoredWithinLimits();
      }),
      {
        numRuns: RUNS,
        // First, a valid answer with hostile text: the property is seen to hold on a sync that stores.
        examples: [
          [
            { kind: "json", body: { libraries: [{ id: "lib_books", name: "Books", mediaType: "book" }] } },
            {
              kind: "json",
              body: { results: [absItem("li_example", { title: "Dirty\u0000\u001b title" })], total: 1e9, limit: 1, page: 0 },
            },
          ],
        ],
      },
    );
    console.log(`upstream property, sync: ${RUNS} runs, ${seen.created} stored books`);
    expect(seen.created).toBeGreaterThan(0);
  });

  it("search and acquisition: Prowlarr", { timeout: TIMEOUT_MS }, async () => {
    const seen = { queued: 0, refused: 0 };
    const title = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(`${SERIES}, Book 2 by ${AUTHOR} [ENG / M4B]`, `${SERIES} #2 - Caliban's War by ${AUTHOR}`) },
      fc.tuple(fc.constantFrom(`${SERIES}, Book 2 by ${AUTHOR}`), nasty).map(([a, b]) => `${a}${b}`),
      text,
    );
    const link = fc.oneof(
      { weight: 3, arbitrary: fc.constant(`${PROWLARR.PROWLARR_URL}/4/download?apikey=${PROWLARR.PROWLARR_API_KEY}&link=x&file=Book`) },
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_LINKS) },
      text,
      fc.constant(undefined),
    );
    const release = fc
      .record({
        title,
        downloadUrl: link,
        magnetUrl: link,
        infoHash: fc.oneof(fc.constant("b".repeat(40)), text),
        guid: text,
        indexer: text,
        seeders: number,
        size: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, number),
        protocol: fc.oneof(fc.constant("torrent"), text),
        indexerFlags: listOf(text, 3),
      })
      .map((fields) => prowlarrRelease(String(fields.title), fields));
    await fc.assert(
      fc.asyncProperty(answerOf(fc.array(release, { maxLength: 6 })), async (answer) => {
        vi.restoreAllMocks();
        // The gap is open again each run, with no download in flight.
        await db.delete(downloads).where(isNotNull(downloads.missingBookId));
        await db.update(missingBooks).set({ downloadStatus: "identified", downloadId: null });
        const fake = fakeUpstream(() => respond(answer));
        const { status, body } = await post("/api/gaps/acquire", { max_downloads: 2 });
        expectHandled(status, body);
        if (status === 200) {
          seen.queued += body.data.queued.length;
          seen.refused += body.data.refused_links.length;
        }
        // 2 downloads at most: 6 searches, 3 attempts each.
        expect(fake.calls.length).toBeLessThanOrEqual(6 * 3);
        await assertStoredWithinLimits();
      }),
      {
        numRuns: RUNS,
        examples: [
          [
            {
              kind: "json",
              body: [
                prowlarrRelease(`${SERIES}, Book 2 by ${AUTHOR} [ENG / M4B]`, { seeders: 50, downloadUrl: HOSTILE_LINKS[0] }),
                prowlarrRelease(`${SERIES}, Book 2 by ${AUTHOR}\u001b[2J`, { seeders: 3 }),
              ],
            },
          ],
        ],
      },
    );
    console.log(`upstream property, acquisition: ${RUNS} runs, ${seen.queued} queued, ${seen.refused} links refused`);
    expect(seen.queued).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it("the QUEUE task: qBittorrent", { timeout: TIMEOUT_MS }, async () => {
    const seen = { adds: 0, refused: 0 };
    const hash = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("c".repeat(40), "d".repeat(40)) }, nasty);
    const torrent = fc.record({
      hash,
      name: text,
      state: fc.oneof(fc.constantFrom("downloading", "uploading", "error", "stalledDL"), text),
      progress: number,
      tags: text,
    });
    const info = answerOf(fc.array(torrent, { maxLength: 4 }));
    const add = fc.oneof(
      answerOf(
        fc.record({
          success_count: number,
          failure_count: number,
          pending_count: number,
          added_torrent_ids: fc.array(hash, { maxLength: 2 }),
        }),
      ),
      fc.constantFrom<Answer>(
        { kind: "text", body: "Fails." },
        { kind: "status", status: 202 },
        { kind: "status", status: 409 },
        { kind: "status", status: 415 },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        info,
        add,
        fc.array(fc.constantFrom(...HOSTILE_LINKS.filter((link) => !STORED_CONTROL.test(link))), { minLength: 1, maxLength: 3 }),
        async (infoAnswer, addAnswer, links) => {
          vi.restoreAllMocks();
          // Queued downloads with every kind of stored link (rows from before the link rule too), and two in flight.
          await db.update(downloads).set({ status: "abandoned" });
          for (const [i, link] of links.entries()) {
            const magnet = link.startsWith("magnet:");
            await db
              .insert(downloads)
              .values({ title: `Queued ${i}`, source: "test", magnetLink: magnet ? link : null, torrentUrl: magnet ? null : link });
          }
          for (const h of ["c", "d"]) {
            await db.insert(downloads).values({
              title: `Flight ${h}`,
              source: "test",
              magnetLink: `magnet:?xt=urn:btih:${h.repeat(40)}`,
              status: "downloading",
              qbittorrentHash: h.repeat(40),
            });
          }
          const fake = fakeUpstream((_, url) => respond(url.pathname === "/api/v2/torrents/add" ? addAnswer : infoAnswer));
          const { status, body } = await post("/api/scheduler/trigger/QUEUE");
          expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
          expect(body.data.error_message ?? "").not.toMatch(/^Unexpected error/);
          seen.refused += (body.data.task_metadata?.refused as unknown[] | undefined)?.length ?? 0;
          for (const call of fake.calls.filter((c) => c.url.pathname === "/api/v2/torrents/add")) {
            const sent = new URLSearchParams(call.body).get("urls") ?? "";
            const checked = checkLink(sent, PROWLARR.PROWLARR_URL);
            expect(checked.ok, `qBittorrent was handed ${sent.slice(0, 80)}`).toBe(true);
            seen.adds++;
          }
          // Polls: one by hash, one per download without a hash; sends: at most 4 slots, each a lookup and an add.
          expect(fake.calls.length).toBeLessThanOrEqual(3 * (1 + 2 + 8 * 3));
          await assertStoredWithinLimits({ links: false });
          await db.delete(downloads);
        },
      ),
      {
        numRuns: RUNS,
        // At least one run where a slot is free and qBittorrent accepts: a Prowlarr link is sent, a
        // link to the cloud's metadata service is refused (the counts below are then never 0 by chance).
        examples: [[{ kind: "json", body: [] }, { kind: "text", body: "Ok." }, [HOSTILE_LINKS[7]!, HOSTILE_LINKS[0]!]]],
      },
    );
    console.log(`upstream property, QUEUE: ${RUNS} runs, ${seen.adds} links handed to qBittorrent, ${seen.refused} refused`);
    expect(seen.adds).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it("series catalogue and gap analysis: Audible", { timeout: TIMEOUT_MS }, async () => {
    const seen = { found: 0 };
    const asin = fc.oneof({ weight: 6, arbitrary: fc.constantFrom("B0HOSTILE1", "B0HOSTILE2", "B0SERIES01") }, nasty);
    const product = fc.record({
      asin,
      title: fc.oneof({ weight: 2, arbitrary: fc.constant("Leviathan Wakes") }, text),
      subtitle: text,
      authors: listOf(fc.record({ name: fc.oneof(fc.constant(AUTHOR), text) }), 3),
      series: listOf(
        fc.record({ asin, title: fc.oneof(fc.constant(SERIES), text), sequence: fc.oneof(fc.constantFrom("1", "2", "Book 3"), text) }),
        2,
      ),
      release_date: fc.oneof(fc.constantFrom("2014-03-04", "2031-01-01"), text),
      format_type: text,
    });
    const relationship = fc.record({
      asin,
      relationship_to_product: fc.oneof({ weight: 4, arbitrary: fc.constant("child") }, text),
      relationship_type: fc.oneof({ weight: 4, arbitrary: fc.constant("series") }, text),
      sequence: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("1", "2", "3", "2, Dramatized Adaptation", "1e300", "99999999") }, text),
      sort: number,
    });
    const products = answerOf(fc.record({ products: listOf(product, 4), total_results: number }));
    const seriesProduct = answerOf(fc.record({ product: fc.record({ asin, title: text, relationships: listOf(relationship, 6) }) }));
    await fc.assert(
      fc.asyncProperty(products, seriesProduct, async (productsAnswer, seriesAnswer) => {
        vi.restoreAllMocks();
        // The series is asked again each run.
        await db.delete(catalogueSeries);
        const fake = fakeUpstream((_, url) => respond(url.pathname === "/1.0/catalog/products" ? productsAnswer : seriesAnswer));
        const { status, body } = await post("/api/scheduler/trigger/CATALOGUE");
        expect(status, JSON.stringify(body).slice(0, 300)).toBe(200);
        expect(body.data.error_message ?? "").not.toMatch(/^Unexpected error/);
        if ((body.data.task_metadata?.found ?? 0) > 0) seen.found++;
        // One run's budget: 35 Audible calls, one attempt each.
        expect(fake.calls.length).toBeLessThanOrEqual(35);
        const gaps = await post("/api/gaps/analyze");
        expect(gaps.status, JSON.stringify(gaps.body).slice(0, 300)).toBe(200);
        await assertStoredWithinLimits();
      }),
      {
        numRuns: RUNS,
        // First, a catalogue that knows the series, with hostile text: the property holds on a run that stores.
        examples: [
          [
            {
              kind: "json",
              body: {
                products: [
                  {
                    asin: "B0HOSTILE1",
                    title: "Leviathan Wakes\u0000\u001b",
                    authors: [{ name: AUTHOR }],
                    series: [{ asin: "B0SERIES01", title: SERIES, sequence: "1" }],
                    release_date: "2011-06-15",
                  },
                  { asin: "B0HOSTILE2", title: `Caliban's ${"War".repeat(400)}\u0007`, release_date: "soon\u0000" },
                ],
              },
            },
            {
              kind: "json",
              body: {
                product: {
                  asin: "B0SERIES01",
                  title: SERIES,
                  relationships: [
                    { asin: "B0HOSTILE1", relationship_to_product: "child", relationship_type: "series", sequence: "1", sort: "1" },
                    { asin: "B0HOSTILE2", relationship_to_product: "child", relationship_type: "series", sequence: "2", sort: "2" },
                    { asin: "B0HUGE0001", relationship_to_product: "child", relationship_type: "series", sequence: "1e300", sort: "3" },
                  ],
                },
              },
            },
          ],
        ],
      },
    );
    console.log(`upstream property, catalogue: ${RUNS} runs, ${seen.found} found a series`);
    expect(seen.found).toBeGreaterThan(0);
  });

  it("metadata correction: Google Books", { timeout: TIMEOUT_MS }, async () => {
    const seen = { corrected: 0 };
    const volumeArb = fc
      .record({
        title: fc.oneof(fc.constant("Leviathan Wakes"), text),
        authors: fc.oneof(fc.constant([AUTHOR]), listOf(text, 3)),
        publisher: text,
        publishedDate: text,
        description: text,
        industryIdentifiers: fc.oneof(
          fc.array(fc.record({ type: fc.constantFrom("ISBN_13", "ISBN_10"), identifier: text }), { maxLength: 2 }),
          text,
        ),
      })
      .map((info) => volume("v1", info));
    const answer = answerOf(fc.record({ totalItems: number, items: fc.array(volumeArb, { maxLength: 3 }) }));
    await fc.assert(
      fc.asyncProperty(answer, async (googleAnswer) => {
        vi.restoreAllMocks();
        const [book] = await db.insert(books).values({ title: "Leviathan Wakes", author: AUTHOR }).returning();
        const fake = fakeUpstream(() => respond(googleAnswer));
        const { status, body } = await post("/api/metadata/correct-book", { book_id: book!.id, force: true });
        expect([200, 429, 502, 503], JSON.stringify(body).slice(0, 300)).toContain(status);
        if (status === 200) seen.corrected++;
        // ISBN, then title and author: 2 lookups, 3 attempts each.
        expect(fake.calls.length).toBeLessThanOrEqual(2 * 3);
        await assertStoredWithinLimits();
        await db.delete(metadataCorrections).where(eq(metadataCorrections.bookId, book!.id));
        await db.delete(books).where(eq(books.id, book!.id));
      }),
      {
        numRuns: RUNS,
        examples: [
          [
            {
              kind: "json",
              body: {
                totalItems: 1,
                items: [
                  volume("v1", { title: "Leviathan Wakes", authors: [AUTHOR], publisher: "Orbit\u0000\u001b", description: "x\u0007" }),
                ],
              },
            },
          ],
        ],
      },
    );
    console.log(`upstream property, Google Books: ${RUNS} runs, ${seen.corrected} answered 200`);
    expect(seen.corrected).toBeGreaterThan(0);
  });
});
