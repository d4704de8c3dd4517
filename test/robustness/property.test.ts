import { env } from "cloudflare:workers";
import fc from "fast-check";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ABS_IMPORT_STATUSES,
  API_KEY_ROLES,
  BOOK_STATUSES,
  COMPLETION_STATUSES,
  DOWNLOAD_STATUSES,
  GAP_DOWNLOAD_STATUSES,
  GAP_REASONS,
  USER_ROLES,
} from "../../src/db/schema";
import { MAX_BODY_BYTES } from "../../src/middleware/body";
import { TIERS } from "../../src/rate-limit/tiers";
import { ROUTE_POLICIES, type RoutePolicy } from "../../src/route-policy";
import { TASK_NAMES } from "../../src/scheduler/tasks";
import { METADATA_FIELDS } from "../../src/services/books";
import { CORRECTION_SOURCES } from "../../src/services/metadata";
import { createAuthor, createBook, createSeries, createUser } from "../fixtures";
import { API_KEY, call } from "../helpers";
import { api } from "../library";
import { assertErrorBody, DatabaseSnapshot } from "./support";

/**
 * Property: whatever arrives at any route, the service answers without a 5xx, every failure is the
 * standard error body with X-Request-ID, and a refused request (any 4xx) or a read changes nothing
 * in the database.
 *
 * The routes come from ROUTE_POLICIES (every route of the app; test/route-policy.test.ts holds the two
 * together), so a new route is fuzzed without touching this file. No route is excluded: the admin
 * and scheduler routes run too (the operator key is admin), and their successful writes only move
 * the baseline the next request is compared against.
 *
 * Each route gets AUTH_RUNS requests with the operator key (for a route that takes a body, the first
 * two are fixed examples: a body just over its size limit and a 10,000-level nesting), and the whole
 * route table gets UNAUTH_RUNS requests without valid credentials, where nothing but a public route
 * may succeed: about 1,000 requests, about 15 s (`npm run fuzz`: over 10,000). The file prints the count and the
 * statuses it saw. fast-check picks the seed and prints it with the counterexample on failure; to
 * replay, pass `{ seed, path }` from that report to the failing fc.assert.
 */

// `npm run fuzz` multiplies both by FUZZ_SCALE=10: ~100 runs per route, 1,200 without credentials,
// over 10,000 requests (checked at the end); `npm test` (CI) keeps the quick run.
const SCALE = Math.max(1, Number(env.FUZZ_SCALE) || 1);
const AUTH_RUNS = 10 * SCALE;
const UNAUTH_RUNS = 120 * SCALE;
const TIMEOUT_MS = 60_000 * SCALE;

// ---------------------------------------------------------------------------------------------
// The routes
// ---------------------------------------------------------------------------------------------

interface Route {
  key: string;
  method: string;
  pattern: string;
  policy: RoutePolicy;
}

const ROUTES: Route[] = Object.entries(ROUTE_POLICIES).map(([key, policy]) => {
  const [method, pattern] = key.split(" ") as [string, string];
  return { key, method, pattern, policy };
});
const PUBLIC_PATHS = new Set(ROUTES.filter((r) => r.policy.access === "public").map((r) => r.pattern));
const takesBody = (method: string) => method !== "GET" && method !== "HEAD";

// ---------------------------------------------------------------------------------------------
// Values: the nasty ones, and markers for values too big to print in a counterexample
// ---------------------------------------------------------------------------------------------

/** A JSON number token JSON.stringify cannot write (1e309 parses to Infinity, -0, 30 digits...). */
class Raw {
  constructor(readonly token: string) {}
  toJSON() {
    return `\u0000raw:${this.token}\u0000`;
  }
  [fc.toStringMethod]() {
    return `Raw(${this.token})`;
  }
}

/** A long string, printed by its length. */
class Long {
  constructor(
    readonly length: number,
    readonly unit: string,
  ) {}
  toJSON() {
    return this.unit.repeat(this.length);
  }
  [fc.toStringMethod]() {
    return `Long(${JSON.stringify(this.unit)} x ${this.length})`;
  }
}

function toJsonText(value: unknown): string {
  return (JSON.stringify(value) ?? "null").replace(/"\\u0000raw:([^"\\]*)\\u0000"/g, "$1");
}

const NASTY_STRINGS = [
  "",
  " ",
  "\t",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "0",
  "-1",
  "-0",
  "true",
  "[]",
  "{}",
  "' OR '1'='1",
  "'; DROP TABLE books; --",
  '" OR ""="',
  "1) OR (1=1",
  "1; SELECT * FROM users",
  "%",
  "_",
  "%_%",
  "\\",
  "*",
  '"',
  '"""',
  "NEAR(a b)",
  "title:x",
  "AND OR NOT",
  "(",
  ")",
  "^a",
  "a*",
  "{title author}: x", // FTS5 query syntax
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "&lt;&amp;",
  "javascript:alert(1)",
  "{{7*7}}",
  "${7*7}",
  "../../../etc/passwd",
  "..\\..\\windows",
  "%2e%2e%2f",
  "\u0000",
  "a\u0000b",
  "\r\n",
  "\u001b[31mred",
  "\u007f",
  "\b\f\v",
  "😀",
  "👨‍👩‍👧‍👦",
  "\u202etxt.exe",
  "ñ",
  "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
  "\uFEFF",
  "\uFFFF",
  "\uFFFD",
  "\uD800",
  "\uDFFF",
  "a\uD83Db",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "日本語",
  "עברית",
  "ﷺ",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "magnet:?",
  "magnet:?xt=urn:btih:",
  "MAGNET:?xt",
  "http://",
  "https://",
  "file:///etc/passwd",
  "http://[::1",
  `http://x/${"a".repeat(3000)}`,
  "2026-13-45T99:99:99Z",
  "SERIES",
  "series",
  "admin",
  "operator",
  "viewer",
  "active",
  "all",
];
const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat(["\u007f", "\u0085", "\u2028", "\u2029"]);

const longString = fc
  .tuple(fc.constantFrom(101, 256, 501, 2_001, 20_001, 100_000), fc.constantFrom("x", "é", "😀", "'", "<", "\u0000"))
  .map(([n, unit]) => new Long(n, unit));

const evilString: fc.Arbitrary<string | Long> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...CONTROL), maxLength: 10 }) },
  { weight: 1, arbitrary: longString },
);

const evilNumber: fc.Arbitrary<number | Raw> = fc.oneof(
  fc.integer(),
  fc.double(), // NaN and ±Infinity become null in JSON
  fc.constantFrom(
    0,
    -1,
    1,
    0.5,
    -0.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 63),
    2 ** 64,
    1e308,
    -1e308,
    5e-324,
    3000,
    3001,
    100_001,
  ),
  fc
    .constantFrom("1e309", "-1e309", "1E400", "123456789012345678901234567890", "-0", "0.000000000000000000000001", "1.0", "1e2")
    .map((t) => new Raw(t)),
);

const scalar = fc.oneof(evilString, evilNumber, fc.boolean(), fc.constant(null));

/** Field names of the service's bodies and queries, so generated objects hit real fields. */
const BODY_FIELDS = [
  "title",
  "author",
  "series",
  "series_number",
  "isbn",
  "asin",
  "publisher",
  "published_year",
  "duration_minutes",
  "description",
  "narrator",
  "abs_id",
  "import_source",
  "metadata_source",
  "status",
  "correction_source",
  "correction_reason",
  "field_name",
  "source",
  "name",
  "goodreads_id",
  "hardcover_id",
  "google_books_id",
  "mam_author_id",
  "total_books",
  "total_books_in_series",
  "total_audiobooks_external",
  "total_books_authored",
  "book_id",
  "missing_book_id",
  "magnet_link",
  "torrent_url",
  "qb_hash",
  "qb_status",
  "abs_import_status",
  "error_msg",
  "retry_attempt",
  "days_until_retry",
  "username",
  "password",
  "email",
  "role",
  "is_active",
  "current_password",
  "new_password",
];
const QUERY_PARAMS = [
  "limit",
  "offset",
  "status",
  "search",
  "query",
  "threshold",
  "completion_status",
  "min_books",
  "min_completion",
  "max_completion",
  "days",
  "hours",
  "series_id",
  "series",
  "author_id",
  "author",
  "reason",
  "resolved",
  "status_filter",
  "user_id",
  "action",
  "resource",
];

const fieldName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BODY_FIELDS) }, { weight: 1, arbitrary: evilString.map(String) });

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fieldName, tie("value"), { maxKeys: 5 }),
  ),
})).value;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

type Body =
  | { kind: "none" }
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: number[] }
  | { kind: "deep"; depth: number; shape: "array" | "object"; field: string | null }
  | { kind: "wide"; count: number; shape: "array" | "object" | "rows" }
  | { kind: "oversize"; over: number; stream: boolean };

interface Segment {
  text: string;
  /** Put into the path as it is (e.g. "../"), not percent-encoded. */
  raw?: boolean;
}

interface Generated {
  method: string;
  params: Record<string, Segment>;
  trailingSlash: boolean;
  query: [string, string][];
  headers: Record<string, string>;
  body: Body;
}

const WEIRD_IDS = [
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "1e3",
  "-1",
  "0",
  "-0",
  "00001",
  "1.5",
  "1.0",
  " 1",
  "1 ",
  "0x10",
  "0b1",
  "1_000",
  "9007199254740993",
  "99999999999999999999999",
  "2147483648",
  "18446744073709551616",
  "-9223372036854775808",
  "1e-7",
  "",
  "abc",
  "1abc",
  "true",
  "null",
  "[1]",
  "１２",
];
const RAW_SEGMENTS = ["..", "../", "../..", "%2e%2e", ".%2e/x", "%2F", "%", "%zz", "%E0%A4%A", "%00", "%C0%AE", "a%2Fb", ";", "//", "./"];

const evilSegment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...WEIRD_IDS).map((text) => ({ text })) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS).map((text) => ({ text, raw: true })) },
  { weight: 3, arbitrary: evilString.map((s) => ({ text: String(s instanceof Long ? s.toJSON() : s).slice(0, 4000) })) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => ({ text: String(n) })) },
);

/** What the fixtures created, for params and bodies that reach real rows. Filled in beforeAll. */
const pools = {
  books: [] as number[],
  series: [] as number[],
  authors: [] as number[],
  downloads: [] as number[],
  users: [] as number[],
  apiKeys: [] as number[],
  seriesNames: [] as string[],
  usernames: [] as string[],
};

function idPool(pattern: string): number[] {
  if (pattern.startsWith("/api/books") || pattern.startsWith("/api/metadata")) return pools.books;
  if (pattern.startsWith("/api/series")) return pools.series;
  if (pattern.startsWith("/api/authors")) return pools.authors;
  if (pattern.startsWith("/api/downloads")) return pools.downloads;
  if (pattern.startsWith("/api/admin/users")) return pools.users;
  if (pattern.startsWith("/api/admin/api-keys")) return pools.apiKeys;
  return [1];
}

function paramArbitrary(pattern: string, param: string): fc.Arbitrary<Segment> {
  let good: fc.Arbitrary<string>;
  if (param === "id" || param === "book_id") {
    // The pools are filled before the properties run; fc.constant(...) is read lazily through chain.
    good = fc.constant(null).chain(() => fc.oneof(fc.constantFrom(...idPool(pattern)), fc.integer({ min: 1, max: 60 })).map(String));
  } else if (param === "tier") {
    good = fc.constantFrom(...TIERS);
  } else if (param === "client") {
    good = fc.constantFrom("operator", "ip:203.0.113.9", "user:1", "key:1", "ip:2001:db8::1");
  } else if (pattern.startsWith("/api/scheduler")) {
    good = fc.constantFrom(...TASK_NAMES, ...TASK_NAMES.map((n) => n.toLowerCase()), "mam ");
  } else {
    good = fc.constant(null).chain(() => fc.constantFrom(...pools.seriesNames, "Dune", "nothing-like-this"));
  }
  return fc.oneof({ weight: 2, arbitrary: good.map((text) => ({ text })) }, { weight: 3, arbitrary: evilSegment });
}

const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...WEIRD_IDS, "1", "10", "100", "500", "501", "1000000001"),
  fc.constantFrom(
    ...BOOK_STATUSES,
    ...DOWNLOAD_STATUSES,
    ...COMPLETION_STATUSES,
    ...GAP_REASONS,
    ...GAP_DOWNLOAD_STATUSES,
    "all",
    "true",
    "false",
    "TRUE",
  ),
  evilString.map((s) => String(s instanceof Long ? s.toJSON() : s).slice(0, 5000)),
  fc.integer().map(String),
);
const queryPair: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...QUERY_PARAMS) },
    { weight: 1, arbitrary: fc.constantFrom("limit[]", "__proto__", "x", "", "a b", "utm_source") },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  ),
  queryValue,
);

/** Header values must be ByteStrings without CR, LF or NUL. */
const headerText = (maxLength: number) =>
  fc.string({
    // Printable ASCII and tab. (Latin-1 bytes are legal too, but workerd warns about each one; the
    // fixed values below send a few.)
    unit: fc
      .oneof({ weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.constant(9) })
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const CONTENT_TYPES = [
  "application/json; charset=utf-8",
  "application/vnd.api+json",
  "APPLICATION/JSON",
  "application/json;charset=latin1",
  "application/json;;;",
  "application/json, text/plain",
  "application/jsonp",
  "application/x-json",
  "text/json",
  "json",
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----x",
  "application/octet-stream",
  "",
  "*/*",
];

/** Tokens the app must refuse: bad signature, no algorithm, expired, missing claims, no such user. Made in beforeAll. */
const tokens: string[] = [];

const authorization = fc.oneof(
  fc.constantFrom(
    "Bearer",
    "Bearer ",
    "Bearer x",
    "Bearer a.b.c",
    "Bearer ....",
    "Basic",
    "Basic !!!",
    "Basic =",
    `Basic ${btoa("admin:wrong")}`,
    `Basic ${btoa("root:x")}`,
    `Basic ${btoa(":")}`,
    "Digest username=x",
    "bearer",
    "Token abc",
    "ApiKey abc",
  ),
  fc.constant(null).chain(() => fc.constantFrom(...tokens).map((t) => `Bearer ${t}`)),
  headerText(60).map((s) => `Bearer ${s}`),
  headerText(60).map((s) => `Basic ${s}`),
  headerText(100),
  fc.constant(`Bearer ${"a".repeat(8000)}`),
);
const apiKeyHeader = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "mam_",
    `mam_${"A".repeat(43)}`,
    "null",
    "undefined",
    API_KEY.slice(0, -1),
    `${API_KEY}x`,
    API_KEY.toUpperCase(),
  ),
  headerText(60),
  headerText(10).map((s) => `mam_${s}`),
  fc.constant("k".repeat(10_000)),
);
const requestIdHeader = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
  fc.constantFrom("a".repeat(65), " spaced ", "a b", "<script>", "../../etc", "' OR 1=1", "req_\u00e9", "", "\t", "-", "."),
  headerText(100),
);

function headersArbitrary(withBody: boolean, authenticated: boolean): fc.Arbitrary<Record<string, string>> {
  return fc
    .record(
      {
        contentType: withBody
          ? fc.oneof(
              { weight: 12, arbitrary: fc.constant("application/json") },
              { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
              { weight: 1, arbitrary: fc.constant(null) },
              { weight: 1, arbitrary: headerText(40) },
            )
          : fc.oneof(
              { weight: 5, arbitrary: fc.constant(null) },
              { weight: 1, arbitrary: fc.constantFrom("application/json", ...CONTENT_TYPES) },
            ),
        requestId: fc.option(requestIdHeader, { freq: 2 }),
        authorization: fc.option(authorization, { freq: authenticated ? 4 : 1 }),
        apiKey: authenticated ? fc.constant(null) : fc.option(apiKeyHeader, { freq: 2 }),
        accept: fc.option(fc.constantFrom("text/html", "application/xml", "*/*", "application/json;q=0", ""), { freq: 4 }),
      },
      { requiredKeys: [] },
    )
    .map((h) => {
      const headers: Record<string, string> = {};
      if (h.contentType != null) headers["Content-Type"] = h.contentType;
      if (h.requestId != null) headers["X-Request-ID"] = h.requestId;
      if (h.authorization != null) headers.Authorization = h.authorization;
      if (h.apiKey != null) headers["X-API-Key"] = h.apiKey;
      if (h.accept != null) headers.Accept = h.accept;
      return headers;
    });
}

// --- Bodies that pass validation (sometimes), per route ----------------------------------------

const NAMES = ["Dune", "dune", " DUNE ", "Foundation", "The Expanse", "Mistborn", "Discworld", "Wheel of Time"];
const text = (max = 60) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NAMES) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: max }) },
    { weight: 1, arbitrary: fc.constantFrom(...NASTY_STRINGS.filter((s) => s.trim() !== "")) },
  );
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const magnets = Array.from({ length: 4 }, (_, i) => `magnet:?xt=urn:btih:${String(i).repeat(40)}`);
const positiveId = () =>
  fc.oneof(
    fc.constant(null).chain(() => fc.constantFrom(...pools.books)),
    fc.integer({ min: 1, max: 100 }),
  );

function compact(record: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

const bookFields = {
  author: optional(fc.oneof(text(), fc.constant(null))),
  series: optional(fc.oneof(fc.constantFrom(...NAMES), fc.constant(null))),
  series_number: optional(fc.constantFrom("1", "2", "3", "1.5", "x", "")),
  isbn: optional(fc.constantFrom("9780765326355", "", "isbn")),
  asin: optional(fc.constantFrom("B00", "")),
  publisher: optional(text()),
  published_year: optional(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(null))),
  duration_minutes: optional(fc.integer({ min: 0, max: 10_000 })),
  description: optional(text(200)),
  narrator: optional(text()),
};
const bookCreate = fc
  .record({ title: text(), ...bookFields, abs_id: optional(fc.constantFrom("abs-1", "abs-2", "abs-3", "ABS-1")) })
  .map(compact);

const VALID_BODIES: Record<string, fc.Arbitrary<unknown>> = {
  "POST /api/books": bookCreate,
  "POST /api/books/import": fc.uniqueArray(
    fc.record({ title: text(), ...bookFields, abs_id: fc.constantFrom("imp-1", "imp-2", "imp-3", "imp-4", "abs-1") }).map(compact),
    { minLength: 1, maxLength: 4, selector: (r) => r.abs_id },
  ),
  "PUT /api/books/:id": fc
    .record({
      title: optional(text()),
      ...bookFields,
      status: optional(fc.constantFrom(...BOOK_STATUSES)),
      correction_source: optional(fc.constantFrom(...CORRECTION_SOURCES)),
      correction_reason: optional(text()),
    })
    .map(compact),
  "PUT /api/books/:id/metadata-source": fc.record({ field_name: fc.constantFrom(...METADATA_FIELDS), source: text() }),
  "POST /api/series": fc
    .record({ name: text(), author: optional(text()), total_books: optional(fc.integer({ min: 1, max: 12 })) })
    .map(compact),
  "PUT /api/series/:id": fc
    .record({
      name: optional(text()),
      author: optional(text()),
      total_books_in_series: optional(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(null))),
    })
    .map(compact),
  "POST /api/authors": fc
    .record({ name: text(), total_books: optional(fc.integer({ min: 1, max: 50 })), goodreads_id: optional(text()) })
    .map(compact),
  "PUT /api/authors/:id": fc
    .record({ name: optional(text()), total_audiobooks_external: optional(fc.integer({ min: 1, max: 50 })) })
    .map(compact),
  "POST /api/downloads": fc
    .record({
      title: text(),
      source: fc.constantFrom("MAM", "manual"),
      magnet_link: optional(fc.constantFrom(...magnets)),
      torrent_url: optional(fc.constantFrom("https://tracker.example/t/1.torrent", "http://x.test/a")),
      book_id: optional(positiveId()),
    })
    .map(compact),
  "PUT /api/downloads/:id/status": fc
    .record({ status: fc.constantFrom(...DOWNLOAD_STATUSES), qb_hash: optional(fc.constantFrom("abc", "def")) })
    .map(compact),
  "PUT /api/downloads/:id/mark-complete": fc.record({ abs_import_status: optional(fc.constantFrom(...ABS_IMPORT_STATUSES)) }).map(compact),
  "PUT /api/downloads/:id/mark-failed": fc
    .record({ error_msg: text(), retry_attempt: optional(fc.integer({ min: 1, max: 5 })) })
    .map(compact),
  "PUT /api/downloads/:id/retry": fc.record({ days_until_retry: optional(fc.integer({ min: 1, max: 30 })) }).map(compact),
  "POST /api/admin/login": fc.record({
    username: fc.constant(null).chain(() => fc.constantFrom(...pools.usernames, "nobody")),
    password: fc.constantFrom("wrong-password", "x"),
  }),
  "POST /api/admin/users": fc
    .record({
      username: fc.constantFrom("fuzz_a", "fuzz_b", "fuzz.c"),
      password: fc.constantFrom("password-123456"),
      role: fc.constantFrom(...USER_ROLES),
    })
    .map((u) => ({ ...u, email: `${u.username}@example.test` })),
  "PUT /api/admin/users/:id": fc
    .record({
      email: optional(fc.constantFrom("a@example.test", "b@example.test")),
      role: optional(fc.constantFrom(...USER_ROLES)),
      is_active: optional(fc.boolean()),
    })
    .map(compact),
  "POST /api/admin/users/:id/password": fc.record({ new_password: fc.constantFrom("new-password-1", "short") }),
  "POST /api/admin/api-keys": fc.record({ name: fc.constantFrom("fuzz-key-1", "fuzz-key-2"), role: fc.constantFrom(...API_KEY_ROLES) }),
};

/** Queries that pass validation, for the routes that need one (random pairs are added to them). */
const VALID_QUERIES: Record<string, fc.Arbitrary<[string, string][]>> = {
  "GET /api/books/search": fc
    .tuple(fc.oneof(text(), fc.constantFrom("du", "a", "Dune Saga", "frank")), fc.integer({ min: 1, max: 100 }))
    .map(([query, limit]) => [
      ["query", String(query)],
      ["limit", String(limit)],
    ]),
  "GET /api/books": fc
    .tuple(fc.oneof(text(), fc.constantFrom("du", "Dune")), fc.constantFrom(...BOOK_STATUSES, "all"))
    .map(([search, status]) => [
      ["search", String(search)],
      ["status", status],
    ]),
  "GET /api/gaps/missing": fc
    .constant(null)
    .chain(() => fc.constantFrom(...pools.seriesNames))
    .map((series) => [["series", series]]),
};

/** A valid body with one thing wrong: a field dropped, a field's value replaced, an unknown field added. */
function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return valid.chain((value) => {
    const target = Array.isArray(value) ? value[0] : value;
    if (target === null || typeof target !== "object") return fc.constant(value);
    const keys = Object.keys(target as object);
    const mutate = fc.oneof(
      keys.length > 0
        ? fc.constantFrom(...keys).map((k) => ({ op: "drop" as const, k, v: undefined as unknown }))
        : fc.constant({ op: "add" as const, k: "extra", v: 1 as unknown }),
      fc.tuple(keys.length > 0 ? fc.constantFrom(...keys) : fieldName, jsonValue).map(([k, v]) => ({ op: "set" as const, k, v })),
      fc.tuple(fieldName, jsonValue).map(([k, v]) => ({ op: "add" as const, k, v })),
    );
    return mutate.map(({ op, k, v }) => {
      const copy: Record<string, unknown> = { ...(target as Record<string, unknown>) };
      if (op === "drop") delete copy[k];
      else copy[k] = v;
      return Array.isArray(value) ? [copy, ...value.slice(1)] : copy;
    });
  });
}

const INVALID_JSON = [
  "",
  " ",
  "{",
  "}",
  "[",
  '{"title":',
  '{"title":"x"',
  "{'title':'x'}",
  '{"title":"x",}',
  "[1,2,]",
  "{title:1}",
  "NaN",
  "Infinity",
  "undefined",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":01}',
  '{"a":1e}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"}',
  '{"a":"line\nbreak"}',
  "\uFEFF{}",
  "// c\n{}",
  "/* c */{}",
  "{}{}",
  "[]]",
  '"just a string"',
  "1",
  "true",
  "null",
  '{"__proto__":{"polluted":1},"title":"x"}',
  '{"title":"x","title":"y"}',
  '{"constructor":{"prototype":{"x":1}}}',
  "\u0000",
  "<xml/>",
  "title=x&author=y",
];

function bodyArbitrary(route: Route): fc.Arbitrary<Body> {
  const valid = VALID_BODIES[route.key];
  const options: fc.WeightedArbitrary<Body>[] = [
    { weight: 2, arbitrary: fc.constant({ kind: "none" }) },
    { weight: 3, arbitrary: jsonValue.map((value) => ({ kind: "json", value })) },
    { weight: 2, arbitrary: fc.dictionary(fieldName, scalar, { maxKeys: 8 }).map((value) => ({ kind: "json", value })) },
    {
      weight: 2,
      arbitrary: fc.oneof(fc.constantFrom(...INVALID_JSON), fc.string({ maxLength: 30 })).map((text) => ({ kind: "text", text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 20 })
        .map((bytes) => ({ kind: "bytes", bytes: [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, ...bytes, 0x22, 0x7d] })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          depth: fc.constantFrom(100, 1_000, 10_000, 50_000),
          shape: fc.constantFrom("array" as const, "object" as const),
          field: fc.option(fc.constantFrom("title", "metadata_source", "name", "status", "book_id")),
        })
        .map((b) => ({ kind: "deep", ...b })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          count: fc.constantFrom(1_001, 10_000, 60_000),
          shape: fc.constantFrom("array" as const, "object" as const, "rows" as const),
        })
        .map((b) => ({ kind: "wide", ...b })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ over: fc.constantFrom(1, 4096, 1024 * 1024), stream: fc.boolean() }).map((b) => ({ kind: "oversize", ...b })),
    },
  ];
  if (valid) {
    options.push({ weight: 10, arbitrary: valid.map((value) => ({ kind: "json", value })) });
    options.push({ weight: 6, arbitrary: mutated(valid).map((value) => ({ kind: "json", value })) });
  }
  return fc.oneof(...options);
}

const OTHER_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

function requestArbitrary(route: Route, authenticated: boolean): fc.Arbitrary<Generated> {
  const params = [...route.pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(route.method) },
    { weight: route.method === "GET" ? 2 : 0, arbitrary: fc.constant("HEAD") },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
  );
  return method.chain((m) =>
    fc.record({
      method: fc.constant(m),
      params: fc.record(Object.fromEntries(params.map((p) => [p, paramArbitrary(route.pattern, p)]))),
      trailingSlash: fc.boolean(),
      query: VALID_QUERIES[route.key]
        ? fc.oneof(
            fc.array(queryPair, { maxLength: 5 }),
            fc.tuple(VALID_QUERIES[route.key]!, fc.array(queryPair, { maxLength: 2 })).map(([valid, extra]) => [...valid, ...extra]),
          )
        : fc.array(queryPair, { maxLength: 5 }),
      headers: headersArbitrary(takesBody(m), authenticated),
      body: takesBody(m) ? bodyArbitrary(route) : fc.constant<Body>({ kind: "none" }),
    }),
  );
}

// --- Turning a generated request into bytes ---------------------------------------------------------

function encodeSegment({ text, raw }: Segment): string {
  return raw ? text : encodeURIComponent(text.toWellFormed());
}

function pathOf(route: Route, g: Generated): string {
  let path = route.pattern.replace(/:(\w+)/g, (_, p: string) => encodeSegment(g.params[p]!));
  if (g.trailingSlash && !path.endsWith("/")) path += "/";
  const query = g.query.map(([k, v]) => `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`).join("&");
  return query ? `${path}?${query}` : path;
}

const encoder = new TextEncoder();

function deepText(depth: number, shape: "array" | "object"): string {
  return shape === "array" ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function wideText(count: number, shape: "array" | "object" | "rows"): string {
  const items = Array.from({ length: count }, (_, i) =>
    shape === "object" ? `"k${i}":${i}` : shape === "rows" ? `{"abs_id":"w${i}","title":"T${i}"}` : String(i),
  );
  return shape === "object" ? `{${items.join(",")}}` : `[${items.join(",")}]`;
}

function oversizeText(route: Route, over: number): string {
  const limit = route.policy.tier === "upload" ? MAX_BODY_BYTES.upload : MAX_BODY_BYTES.default;
  const filler = "x".repeat(limit + over);
  return route.key === "POST /api/books/import" ? `[{"abs_id":"big","title":"${filler}"}]` : `{"title":"${filler}"}`;
}

function bodyBytes(route: Route, body: Body): Uint8Array | ReadableStream | undefined {
  switch (body.kind) {
    case "none":
      return undefined;
    case "json":
      return encoder.encode(toJsonText(body.value));
    case "text":
      return encoder.encode(body.text.toWellFormed());
    case "bytes":
      return new Uint8Array(body.bytes);
    case "deep": {
      const deep = deepText(body.depth, body.shape);
      return encoder.encode(body.field ? `{"title":"deep","${body.field}":${deep}}` : deep);
    }
    case "wide":
      return encoder.encode(wideText(body.count, body.shape));
    case "oversize": {
      const bytes = encoder.encode(oversizeText(route, body.over));
      if (!body.stream) return bytes;
      // Without a Content-Length: the limit must be enforced on the stream itself.
      const CHUNK = 256 * 1024;
      let offset = 0;
      return new ReadableStream({
        pull(controller) {
          if (offset >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(offset, offset + CHUNK));
          offset += CHUNK;
        },
      });
    }
  }
}

/** Per-route fixed examples: the expensive bodies, sent to every route that takes one. */
function examplesFor(route: Route): [Generated][] {
  if (!takesBody(route.method)) return [];
  const base = { method: route.method, trailingSlash: false, query: [], headers: { "Content-Type": "application/json" } };
  const params = Object.fromEntries(
    [...route.pattern.matchAll(/:(\w+)/g)].map((m) => [m[1]!, { text: m[1] === "name" ? "SERIES" : m[1] === "tier" ? "public" : "1" }]),
  );
  return [
    [{ ...base, params, body: { kind: "oversize", over: 1, stream: false } }],
    [{ ...base, params, body: { kind: "deep", depth: 10_000, shape: "object", field: null } }],
  ];
}

// ---------------------------------------------------------------------------------------------
// Sending and checking
// ---------------------------------------------------------------------------------------------

/**
 * Rejections that are meant to write: a failed login counts the attempt (login_throttle, for
 * known and unknown usernames alike) and is audited (every login, failed or not, is
 * written to audit_logs). Everything else refused must leave the database as it was.
 */
const WRITES_WHEN_REFUSED: Record<string, { statuses: number[]; tables: string[] }> = {
  "POST /api/admin/login": { statuses: [401, 423], tables: ["audit_logs", "login_throttle"] },
};

const stats = { sent: 0, authenticated: 0, unauthenticated: 0, statuses: new Map<number, number>(), started: 0 };
let snapshot: DatabaseSnapshot;

function describeRequest(route: Route, g: Generated, path: string): string {
  const body = g.body.kind === "json" ? toJsonText(g.body.value).slice(0, 300) : JSON.stringify(g.body).slice(0, 300);
  return `${route.key}: ${g.method} ${path.slice(0, 300)} headers=${JSON.stringify(g.headers).slice(0, 300)} body=${body}`;
}

const CALLER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Routes that call an outside service: with none configured, a valid request is a 503. */
const NEEDS_SERVICE = new Set([
  "POST /api/gaps/acquire",
  "POST /api/gaps/analyze-and-acquire",
  "POST /api/library/sync",
  "POST /api/metadata/correct-book",
  "POST /api/metadata/correct-all",
  "POST /api/metadata/correct-recent",
]);

async function send(route: Route, g: Generated, authenticated: boolean): Promise<void> {
  const path = pathOf(route, g);
  const what = describeRequest(route, g, path);
  const res = await call(path, { method: g.method, auth: authenticated, headers: g.headers, body: bodyBytes(route, g.body) ?? null });
  const status = res.status;
  stats.sent++;
  stats[authenticated ? "authenticated" : "unauthenticated"]++;
  stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
  const raw = g.method === "HEAD" ? "" : await res.text();

  // 1. Never a 5xx: with a healthy database no 503 is deliberate either, but for the 503
  // service_unavailable of a route whose outside service the tests leave unconfigured.
  if (status === 503 && NEEDS_SERVICE.has(route.key))
    expect((JSON.parse(raw) as { error: string }).error, what).toBe("service_unavailable");
  else expect(status, `${what}\n→ ${raw.slice(0, 1000)}`).toBeLessThan(500);

  // 2. X-Request-ID on every answer: the caller's when it is safe to echo, else a new one.
  const requestId = res.headers.get("X-Request-ID");
  const sent = new Headers(g.headers).get("X-Request-ID");
  if (sent !== null && CALLER_ID.test(sent)) expect(requestId, what).toBe(sent);
  else expect(requestId, what).toMatch(/^req_[0-9a-f]{12}$/);

  // 3. Every failure in the one error shape; successes of /api in the envelope.
  if (g.method === "HEAD") {
    expect(raw, what).toBe("");
  } else if (status >= 300) {
    expect(res.headers.get("Content-Type"), what).toMatch(/^application\/json/);
    const body = JSON.parse(raw) as { request_id?: string };
    assertErrorBody(body, status);
    expect(body.request_id, what).toBe(requestId);
    expect(raw, what).not.toMatch(/SQLITE_|D1_ERROR|DrizzleQueryError|\n\s+at /);
  } else if (new URL(path, "http://api.test").pathname.startsWith("/api/")) {
    expect(JSON.parse(raw), what).toMatchObject({ success: true, error: null, timestamp: expect.any(String) });
  }

  // 4. Without valid credentials, nothing but a public route succeeds.
  if (!authenticated && status < 400) {
    const pathname = new URL(path, "http://api.test").pathname.replace(/(.)\/+$/, "$1");
    expect(PUBLIC_PATHS.has(pathname), `${what}\n→ ${status} without credentials`).toBe(true);
  }

  // 5. A refused request, and any read, changes nothing; an accepted write moves the baseline.
  const mustNotWrite = status >= 400 || g.method === "GET" || g.method === "HEAD";
  if (mustNotWrite) {
    const allowed = WRITES_WHEN_REFUSED[route.key];
    const changed = (await snapshot.changedTables()).filter((t) => !(allowed?.statuses.includes(status) && allowed.tables.includes(t)));
    expect(changed, `${what}\n→ ${status} ${raw.slice(0, 500)}\nchanged the database`).toEqual([]);
  }
  if (!mustNotWrite || WRITES_WHEN_REFUSED[route.key]) await snapshot.refresh();
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  stats.started = performance.now();
  for (const name of ["Dune", "Foundation", "The Expanse"]) {
    const s = await createSeries({ name: `${name} Saga`, total_books: 5 });
    pools.series.push(s.series_id);
    pools.seriesNames.push(`${name} Saga`);
  }
  for (let i = 0; i < 4; i++) {
    const b = await createBook({ author: "Frank Herbert", series: pools.seriesNames[i % 3], series_number: String(i + 1) });
    pools.books.push(b.book_id);
  }
  pools.authors.push((await createAuthor({ name: "Frank Herbert", total_books: 10 })).author_id);
  for (const magnet of magnets.slice(0, 2)) {
    const { status, body } = await api("/api/downloads", { method: "POST", json: { title: "Dune", source: "MAM", magnet_link: magnet } });
    expect(status).toBe(201);
    pools.downloads.push(body.data.download_id);
  }
  expect((await api("/api/gaps/analyze", { method: "POST" })).status).toBe(200);
  const user = await createUser("admin");
  pools.users.push(user.id);
  pools.usernames.push(user.username);
  const key = await api("/api/admin/api-keys", { method: "POST", json: { name: "fuzz-fixture", role: "viewer" } });
  pools.apiKeys.push(key.body.data.api_key.id);

  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: String(user.id), username: user.username, role: "admin", jti: "fuzz", iat: now, exp: now + 600 };
  tokens.push(
    await sign(claims, "not-the-secret-0123456789abcdef0123456789", "HS256"), // wrong key
    await sign({ ...claims, iat: now - 7200, exp: now - 3600 }, env.JWT_SECRET, "HS256"), // expired
    await sign({ ...claims, sub: "99999999" }, env.JWT_SECRET, "HS256"), // no such user
    await sign({ ...claims, sub: "1e400" }, env.JWT_SECRET, "HS256"), // not an id
    await sign({ ...claims, sub: "abc", jti: undefined }, env.JWT_SECRET, "HS256"), // missing claims
    await sign({ ...claims, exp: "soon" } as unknown as typeof claims, env.JWT_SECRET, "HS256"), // exp not a number
    await sign(claims, env.JWT_SECRET, "HS512"), // another algorithm
    `${btoa(JSON.stringify({ alg: "none", typ: "JWT" }))}.${btoa(JSON.stringify(claims))}.`, // unsigned
  );
  snapshot = await DatabaseSnapshot.take();
});

afterAll(() => {
  if (SCALE >= 10) expect(stats.sent, "npm run fuzz sends at least 10,000 requests").toBeGreaterThanOrEqual(10_000);
  const seconds = ((performance.now() - stats.started) / 1000).toFixed(1);
  const statuses = [...stats.statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(" ");
  console.info(
    `[property] ${stats.sent} generated requests (${stats.authenticated} with the operator key, ${stats.unauthenticated} without) over ${ROUTES.length} routes in ${seconds} s; statuses ${statuses}`,
  );
});

describe("every route, with the operator key", () => {
  it.each(ROUTES.map((r) => [r.key, r] as const))("%s", { timeout: TIMEOUT_MS }, async (_, route) => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(route, true), (g) => send(route, g, true)),
      { numRuns: AUTH_RUNS, examples: examplesFor(route) },
    );
  });
});

describe("every route, without valid credentials", () => {
  it("never answers 5xx, keeps the error shape, writes nothing, and serves only public routes", { timeout: TIMEOUT_MS }, async () => {
    const any = fc.constantFrom(...ROUTES).chain((route) => requestArbitrary(route, false).map((g) => ({ route, g })));
    await fc.assert(
      fc.asyncProperty(any, ({ route, g }) => send(route, g, false)),
      { numRuns: UNAUTH_RUNS },
    );
  });
});
