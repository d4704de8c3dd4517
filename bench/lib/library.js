// A library of N books with series and authors in a state directory of its own.
// Books come from scripts/seed-library.js (deterministic, SQL straight into the local D1); the
// series and author rows are made from the names those books carry, and their completion is
// computed afterwards by the API itself (see `computeCompletion`), with its own SQL.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { root, runTool } from "../../scripts/lib/tool.js";

/** Seeded series numbers run from 1 to 12 (scripts/seed-library.js): a series of 12 can be complete. */
const BOOKS_PER_SERIES = 12;
/** About what each of the seed's 900 author names writes in a 100,000-book library. */
const BOOKS_PER_AUTHOR = 120;

// One row per distinct name, named as its first book spells it; re-running adds nothing.
const NAMES_SQL = `
INSERT INTO series (name, author, total_books_in_series)
  SELECT min(series), min(author), ${BOOKS_PER_SERIES} FROM books
  WHERE import_source = 'seed' AND series IS NOT NULL GROUP BY lower(series)
  ON CONFLICT DO NOTHING;
INSERT INTO authors (name, total_audiobooks_external)
  SELECT min(author), ${BOOKS_PER_AUTHOR} FROM books
  WHERE import_source = 'seed' AND author IS NOT NULL GROUP BY lower(author)
  ON CONFLICT DO NOTHING;
`;

function check(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed:\n${result.stdout ?? ""}${result.stderr ?? ""}`);
}

/** Migrates `persistTo`, seeds `count` books, then adds their series and authors. */
export function seedLibrary({ count, persistTo, workDir }) {
  const seed = spawnSync(
    process.execPath,
    [path.join(root, "scripts", "seed-library.js"), "--count", String(count), "--persist-to", persistTo],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  check(seed, `seeding ${count} books`);
  const file = path.join(workDir, `names-${count}.sql`);
  writeFileSync(file, NAMES_SQL);
  check(
    runTool("wrangler", ["d1", "execute", "DB", "--local", "--yes", "--persist-to", persistTo, "--file", file], { env: { CI: "true" } }),
    "adding series and authors",
  );
}

/**
 * Recomputes every series' and author's completion through the running API (the SERIES and
 * AUTHOR scheduled tasks), so the numbers are the API's own.
 */
export async function computeCompletion(server, headers) {
  for (const task of ["SERIES", "AUTHOR"]) {
    const response = await fetch(`${server.url}/api/scheduler/trigger/${task}`, { method: "POST", headers });
    if (!response.ok) throw new Error(`trigger ${task}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
}
