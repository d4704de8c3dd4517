// Fills the LOCAL D1 database with a large, realistic library, to try the API (and its search)
// at size. Never touches a remote database.
//
//   npm run db:seed                              100,000 books (abs_id seed-0 … seed-99999)
//   npm run db:seed -- --count 5000
//   npm run db:seed -- --clear                   deletes the seeded books again
//   npm run db:seed -- --persist-to DIR          another local state directory (the benchmark's)
//
// The books go in about ten slices, each one `wrangler d1 execute`, with a line of progress after each.
//
// Rows are generated deterministically (same count → same library) and carry abs_id `seed-<n>` and
// import_source `seed`, so re-running skips what exists and --clear removes exactly them. Books go in
// through SQL, not the API: the FTS triggers index them as they would any insert; series and author
// completion is not recomputed (the seeded names match no series or author rows).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runTool } from "./lib/tool.js";

const USAGE = "usage: node scripts/seed-library.js [--count <n>] [--clear] [--persist-to <dir>]";
const ROWS_PER_INSERT = 100; // keeps each statement well under D1's 100 KB statement limit

function fail(message) {
  console.error(`seed-library: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { count: 100_000, clear: false, persistTo: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--count") opts.count = Number(argv[++i]);
    else if (arg.startsWith("--count=")) opts.count = Number(arg.slice("--count=".length));
    else if (arg === "--clear") opts.clear = true;
    else if (arg === "--persist-to") opts.persistTo = argv[++i] ?? "";
    else if (arg.startsWith("--persist-to=")) opts.persistTo = arg.slice("--persist-to=".length);
    else if (arg === "--local") continue;
    else if (arg === "--remote") fail("seed data is for the local database only");
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 1_000_000) fail("--count must be 1..1000000");
  if (opts.persistTo === "") fail("--persist-to needs a directory");
  return opts;
}

function wrangler(args) {
  if (opts.persistTo) args = [...args, "--persist-to", path.resolve(opts.persistTo)];
  const result = runTool("wrangler", args, { env: { CI: "true" } });
  if (result.error) fail(`could not run wrangler: ${result.error.message}`);
  if (result.status !== 0) fail(`wrangler ${args.slice(0, 3).join(" ")} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function executeFile(sql) {
  const tmp = mkdtempSync(path.join(tmpdir(), "seed-library-"));
  try {
    const file = path.join(tmp, "seed.sql");
    writeFileSync(file, sql);
    wrangler(["d1", "execute", "DB", "--local", "--yes", "--file", file]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// A deterministic library
// ---------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so the same count always yields the same library. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = (text) => text.trim().split(/\s+/);
const ADJECTIVES = words(`Silent Crimson Hidden Broken Last Golden Burning Shattered Forgotten Endless Iron Hollow Wandering
  Frozen Bright Dark Ancient Wild Distant Secret Fallen Quiet Bitter Scarlet Emerald Midnight Restless Sacred Lost Eternal`);
const NOUNS = words(`Kingdom Storm Crown Shadow River Empire Garden Mountain Tower Blade Harbor Library Forest Orbit Throne
  Winter Lantern Citadel Ocean Engine Machine Comet Archive Serpent Valley Bridge Compass Mirror Station Desert Harvest Signal`);
const SERIES_KINDS = words("Saga Chronicles Cycle Trilogy Sequence Archives Legacy Files Mysteries Wars");
const FIRST = words(`Ada Brandon Cora Dmitri Elena Farid Grace Hugo Iris Jonas Keiko Liam Maya Nikolai Olga Pablo Quinn
  Rosa Samuel Tara Ulrich Vera Wen Ximena Yusuf Zoe Amara Bruno Chloe Dario`);
const LAST = words(`Abbott Becker Castillo Dubois Eriksen Fontaine Garcia Haddad Ibsen Jansen Kowalski Laurent Moreau
  Nakamura Okafor Petrov Quintero Rossi Sato Tanaka Ueda Varga Weber Xu Yilmaz Zhang Adler Brennan Costa Dalton`);
const PUBLISHERS = words("Tantor Audible Macmillan_Audio Podium Recorded_Books Blackstone Penguin_Audio HarperAudio").map((p) =>
  p.replace("_", " "),
);

function generateBook(i, random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const maybe = (p, value) => (random() < p ? value() : null);
  const title = random() < 0.5 ? `The ${pick(ADJECTIVES)} ${pick(NOUNS)}` : `${pick(NOUNS)} of the ${pick(ADJECTIVES)} ${pick(NOUNS)}`;
  const author = `${pick(FIRST)} ${pick(LAST)}`;
  const series = maybe(0.6, () => `${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(SERIES_KINDS)}`);
  const book = {
    abs_id: `seed-${i}`,
    title,
    author,
    series,
    series_number: series ? maybe(0.9, () => String(1 + Math.floor(random() * 12))) : null,
    narrator: maybe(0.7, () => `${pick(FIRST)} ${pick(LAST)}`),
    isbn: maybe(0.8, () => `978${String(Math.floor(random() * 1e10)).padStart(10, "0")}`),
    asin: maybe(
      0.7,
      () =>
        `B0${Math.floor(random() * 36 ** 8)
          .toString(36)
          .toUpperCase()
          .padStart(8, "0")}`,
    ),
    publisher: maybe(0.8, () => pick(PUBLISHERS)),
    published_year: maybe(0.9, () => 1950 + Math.floor(random() * 77)),
    duration_minutes: maybe(0.9, () => 120 + Math.floor(random() * 2280)),
    description: maybe(0.6, () => `${title} by ${author}: a story of ${pick(NOUNS).toLowerCase()}s and ${pick(NOUNS).toLowerCase()}s.`),
    status: random() < 0.95 ? "active" : random() < 0.6 ? "archived" : "duplicate",
  };
  // Completeness as src/services/books/fields.ts computes it: filled of the 10 metadata fields.
  const fields = [
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
  ];
  book.metadata_completeness_percent = Math.floor((fields.filter((f) => book[f] !== null).length * 100) / fields.length);
  // Added over the last five years.
  book.date_added = new Date(Date.UTC(2021, 10, 1) + Math.floor(random() * 5 * 365 * 86_400_000)).toISOString();
  return book;
}

const COLUMNS = [
  "abs_id",
  "title",
  "author",
  "series",
  "series_number",
  "narrator",
  "isbn",
  "asin",
  "publisher",
  "published_year",
  "duration_minutes",
  "description",
  "status",
  "metadata_completeness_percent",
  "date_added",
];

function literal(value) {
  if (value === null) return "NULL";
  if (typeof value === "number") return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

function insertStatements(count) {
  const random = prng(count);
  const statements = [];
  for (let start = 0; start < count; start += ROWS_PER_INSERT) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + ROWS_PER_INSERT); i++) {
      const book = generateBook(i, random);
      rows.push(`(${COLUMNS.map((c) => literal(book[c])).join(", ")}, ${literal(book.date_added)}, ${literal(book.date_added)}, 'seed')`);
    }
    statements.push(
      `INSERT INTO books (${COLUMNS.join(", ")}, last_metadata_update, date_updated, import_source) VALUES\n${rows.join(",\n")}\nON CONFLICT (abs_id) DO NOTHING;`,
    );
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
console.log("seed-library: applying the local migrations");
wrangler(["d1", "migrations", "apply", "DB", "--local"]);

if (opts.clear) {
  executeFile("DELETE FROM books WHERE abs_id LIKE 'seed-%' AND import_source = 'seed';");
  console.log("seed-library: deleted the seeded books from the local database.");
  process.exit(0);
}

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const statements = insertStatements(opts.count);
// About ten slices, so a large seed says how far it is; each costs one wrangler start (a second or two).
const perSlice = Math.max(1, Math.ceil(statements.length / 10));
for (let done = 0; done < statements.length; done += perSlice) {
  executeFile(statements.slice(done, done + perSlice).join("\n"));
  const books = Math.min(opts.count, (done + perSlice) * ROWS_PER_INSERT);
  console.log(
    `seed-library: ${books.toLocaleString("en")} of ${opts.count.toLocaleString("en")} books (${Math.floor((books * 100) / opts.count)} %), ${seconds()}`,
  );
}
console.log(`seed-library: ${opts.count} seeded books in the local database (${seconds()}).`);
