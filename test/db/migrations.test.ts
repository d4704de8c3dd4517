import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Every migration must apply, roll back to exactly the schema before it, and apply again.
// The rollback here is what scripts/db-rollback.js does: the rollback file plus deleting the
// d1_migrations row, in one batch.

const MIGRATIONS_TABLE = "d1_migrations";

type SchemaRow = { type: string; name: string; tbl_name: string; sql: string | null };

// The schema the migrations own: not SQLite's or D1's internals, not the bookkeeping table.
async function schemaOf(db: D1Database): Promise<SchemaRow[]> {
  const { results } = await db
    .prepare(
      `SELECT type, name, tbl_name, sql FROM sqlite_master
       WHERE substr(name, 1, 7) <> 'sqlite_' AND substr(name, 1, 4) <> '_cf_' AND tbl_name <> ?
       ORDER BY type, name`,
    )
    .bind(MIGRATIONS_TABLE)
    .all<SchemaRow>();
  return results;
}

async function appliedNames(db: D1Database): Promise<string[]> {
  const exists = await db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").bind(MIGRATIONS_TABLE).first();
  if (!exists) return [];
  const { results } = await db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`).all<{ name: string }>();
  return results.map((r) => r.name);
}

async function rollBack(db: D1Database, name: string): Promise<void> {
  const rollback = env.TEST_ROLLBACKS.find((r) => r.name === name);
  if (!rollback) throw new Error(`no rollback for ${name}`);
  // A rollback of comments alone (a data-only migration's: nothing to undo) runs as its DELETE, as
  // scripts/db-rollback.js runs the file with the DELETE appended.
  const queries = rollback.queries.filter((q) => q.replace(/--[^\n]*/g, "").trim() !== "");
  await db.batch([...queries.map((q) => db.prepare(q)), db.prepare(`DELETE FROM ${MIGRATIONS_TABLE} WHERE name = ?`).bind(name)]);
}

async function rollBackAll(db: D1Database): Promise<void> {
  for (const name of (await appliedNames(db)).reverse()) await rollBack(db, name);
}

const migrations = env.TEST_MIGRATIONS;
const names = migrations.map((m) => m.name);
/** A migration whose first line is `-- data-only: <reason>` changes rows only (scripts/lib/migration-rules.js). */
const dataOnly = (name: string) => /^--[ \t]*data-only:[ \t]*\S/.test(migrations.find((m) => m.name === name)?.queries[0] ?? "");

describe("migrations and rollbacks", () => {
  it("pair up by file name", () => {
    expect(names.length).toBeGreaterThan(0);
    expect(env.TEST_ROLLBACKS.map((r) => r.name).sort()).toEqual([...names].sort());
  });
});

describe("on a database no migration touched (EMPTY_DB)", () => {
  const db = env.EMPTY_DB;

  beforeAll(async () => {
    expect(await schemaOf(db)).toEqual([]);
    expect(await appliedNames(db)).toEqual([]);
  });

  // Leave EMPTY_DB as found, for the tests that need an unmigrated database.
  afterAll(async () => {
    await rollBackAll(db);
    await db.prepare(`DROP TABLE IF EXISTS ${MIGRATIONS_TABLE}`).run();
  });

  it("applies one at a time, rolls back one at a time to each earlier schema, and re-applies", async () => {
    // snapshots[i] = schema with the first i migrations applied
    const snapshots: SchemaRow[][] = [await schemaOf(db)];
    for (let i = 0; i < migrations.length; i++) {
      await applyD1Migrations(db, migrations.slice(0, i + 1));
      expect(await appliedNames(db)).toEqual(names.slice(0, i + 1));
      const schema = await schemaOf(db);
      if (dataOnly(names[i]!)) expect(schema, `${names[i]} is data-only: it leaves the schema as it was`).toEqual(snapshots[i]);
      else expect(schema, `${names[i]} changes the schema`).not.toEqual(snapshots[i]);
      snapshots.push(schema);
    }

    for (let i = migrations.length - 1; i >= 0; i--) {
      await rollBack(db, names[i]!);
      expect(await schemaOf(db), `rolling back ${names[i]}`).toEqual(snapshots[i]);
      expect(await appliedNames(db)).toEqual(names.slice(0, i));
    }
    expect(await schemaOf(db)).toEqual([]);

    await applyD1Migrations(db, migrations);
    expect(await schemaOf(db)).toEqual(snapshots[migrations.length]);
    expect(await appliedNames(db)).toEqual(names);
  });

  it("0011 keys existing series and authors, keeping look-alike rows that already exist (issue 23)", async () => {
    await rollBackAll(db);
    const at = names.indexOf("0011_series_authors_name_key.sql");
    expect(at).toBeGreaterThan(0);
    await applyD1Migrations(db, migrations.slice(0, at));
    await db.batch([
      db.prepare("INSERT INTO series (id, name) VALUES (1, 'Dune Saga'), (2, 'Dune\u00a0Saga'), (3, 'Dune  Saga'), (4, 'Foundation')"),
      db.prepare("INSERT INTO authors (id, name) VALUES (1, 'Frank Herbert'), (2, 'Frank\u200b Herbert')"),
    ]);
    await applyD1Migrations(db, migrations.slice(0, at + 1));
    const keys = async (table: string) =>
      (await db.prepare(`SELECT id, name_key FROM ${table} ORDER BY id`).all<{ id: number; name_key: string }>()).results;
    expect(await keys("series")).toEqual([
      { id: 1, name_key: "dune saga" },
      { id: 2, name_key: "dune saga #2" },
      { id: 3, name_key: "dune saga #3" },
      { id: 4, name_key: "foundation" },
    ]);
    expect(await keys("authors")).toEqual([
      { id: 1, name_key: "frank herbert" },
      { id: 2, name_key: "frank herbert #2" },
    ]);
    await rollBackAll(db);
  });

  it("0013 takes credentials out of links stored before the link rule; a link still to be sent keeps what qBittorrent needs (issue 23)", async () => {
    await rollBackAll(db);
    const at = names.indexOf("0013_scrub_stored_link_credentials.sql");
    expect(at).toBeGreaterThan(0);
    expect(dataOnly(names[at]!)).toBe(true);
    await applyD1Migrations(db, migrations.slice(0, at));
    const passkeyTracker = "tr=https%3A%2F%2Ft.test%2Fannounce.php%3Fpasskey%3Dsecret";
    const links: [number, string, string | null, string | null][] = [
      [1, "queued", null, "http://prowlarr.test:9696/4/download?apikey=SECRET&link=abc%20d&file=The%20Book"],
      [2, "failed", null, "http://prowlarr.test:9696/prowlarr/4/download?link=x&ApiKey=SECRET"],
      [3, "abandoned", null, "https://tracker.test/dl.php?id=1&passkey=abc&torrent_pass=x&sid=1&pk=2&token=t&Key=k&auth=a&authkey=b"],
      [4, "completed", null, "http://user:p@ss@prowlarr.test/4/download?apikey=only"],
      [
        5,
        "completed",
        `magnet:?xt=urn:btih:${"a".repeat(40)}&dn=Book%20One&${passkeyTracker}&xl=10&ws=http%3A%2F%2Fw.test%2F%3Fkey%3Ds`,
        null,
      ],
      [6, "queued", `magnet:?xt=urn:btih:${"b".repeat(40)}&${passkeyTracker}`, null],
      [7, "queued", null, "http://prowlarr.test/4/download?apikeyx=1&link=plain"],
      [8, "queued", null, null],
    ];
    await db.batch(
      links.map(([id, status, magnet, url]) =>
        db
          .prepare("INSERT INTO downloads (id, title, source, status, magnet_link, torrent_url) VALUES (?, 'T', 'Manual', ?, ?, ?)")
          .bind(id, status, magnet, url),
      ),
    );
    await applyD1Migrations(db, migrations.slice(0, at + 1));
    const { results } = await db.prepare("SELECT id, magnet_link, torrent_url FROM downloads ORDER BY id").all();
    expect(results).toEqual([
      { id: 1, magnet_link: null, torrent_url: "http://prowlarr.test:9696/4/download?link=abc%20d&file=The%20Book" },
      { id: 2, magnet_link: null, torrent_url: "http://prowlarr.test:9696/prowlarr/4/download?link=x" },
      { id: 3, magnet_link: null, torrent_url: "https://tracker.test/dl.php?id=1" },
      { id: 4, magnet_link: null, torrent_url: "http://prowlarr.test/4/download" },
      { id: 5, magnet_link: `magnet:?xt=urn:btih:${"a".repeat(40)}&dn=Book%20One&xl=10`, torrent_url: null },
      // Still to be sent: qBittorrent needs the private tracker to find peers.
      { id: 6, magnet_link: `magnet:?xt=urn:btih:${"b".repeat(40)}&${passkeyTracker}`, torrent_url: null },
      { id: 7, magnet_link: null, torrent_url: "http://prowlarr.test/4/download?apikeyx=1&link=plain" },
      { id: 8, magnet_link: null, torrent_url: null },
    ]);
    // Its rollback changes no row: what was removed is kept nowhere.
    await rollBack(db, names[at]!);
    expect((await db.prepare("SELECT id, magnet_link, torrent_url FROM downloads ORDER BY id").all()).results).toEqual(results);
    await rollBackAll(db);
  });

  it("rolls back with rows in every foreign-key relation (foreign keys are on in D1)", async () => {
    await applyD1Migrations(db, migrations);
    await db.batch([
      db.prepare("INSERT INTO books (id, title, author, series) VALUES (1, 'B', 'A', 'S')"),
      db.prepare("INSERT INTO series (id, name) VALUES (1, 'S')"),
      db.prepare("INSERT INTO authors (id, name) VALUES (1, 'A')"),
      db.prepare(
        "INSERT INTO missing_books (id, book_id, series_id, author_id, title, series_number, reason_missing) VALUES (1, 1, 1, 1, 'Gap', '2', 'series_gap')",
      ),
      db.prepare(
        "INSERT INTO downloads (id, book_id, missing_book_id, title, source, magnet_link) VALUES (1, 1, 1, 'Gap', 'Manual', 'magnet:?')",
      ),
      db.prepare("UPDATE missing_books SET download_id = 1 WHERE id = 1"),
      db.prepare("INSERT INTO metadata_corrections (book_id, field_name, source) VALUES (1, 'isbn', 'Manual')"),
      db.prepare("INSERT INTO users (id, username, email, password_hash) VALUES (1, 'u', 'u@example.com', 'x')"),
      db.prepare("INSERT INTO audit_logs (user_id, actor, action, resource) VALUES (1, 'user:1', 'login', 'auth')"),
    ]);

    await rollBackAll(db);
    expect(await schemaOf(db)).toEqual([]);
    expect(await appliedNames(db)).toEqual([]);
  });

  it("keeps the conventions the services rely on", async () => {
    await applyD1Migrations(db, migrations);

    // Timestamps default to ISO 8601 UTC, the shape of Date#toISOString().
    const book = await db
      .prepare("INSERT INTO books (title) VALUES ('T') RETURNING date_added, status, metadata_source")
      .first<{ date_added: string; status: string; metadata_source: string }>();
    expect(book?.date_added).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(book).toMatchObject({ status: "active", metadata_source: "{}" });

    // Series and author names are unique case-insensitively.
    await db.prepare("INSERT INTO series (name) VALUES ('The Expanse')").run();
    await expect(db.prepare("INSERT INTO series (name) VALUES ('the expanse')").run()).rejects.toThrow(/UNIQUE/);

    // Gap analysis cannot record the same gap twice.
    const gap = db.prepare(
      "INSERT INTO missing_books (series_id, title, series_number, reason_missing) VALUES ((SELECT id FROM series WHERE name = 'The Expanse'), 'G', '3', 'series_gap')",
    );
    await gap.run();
    await expect(gap.run()).rejects.toThrow(/UNIQUE/);

    // Deleting a gap keeps its download; deleting a user keeps the audit trail.
    await db.batch([
      db.prepare("INSERT INTO downloads (id, missing_book_id, title, source) VALUES (7, 1, 'G', 'Manual')"),
      db.prepare("DELETE FROM missing_books"),
      db.prepare("INSERT INTO users (id, username, email, password_hash) VALUES (3, 'u', 'u@example.com', 'x')"),
      db.prepare("INSERT INTO audit_logs (id, user_id, actor, username, action, resource) VALUES (9, 3, 'user:3', 'u', 'login', 'auth')"),
      db.prepare("DELETE FROM users WHERE id = 3"),
    ]);
    expect(await db.prepare("SELECT missing_book_id FROM downloads WHERE id = 7").first()).toEqual({
      missing_book_id: null,
    });
    expect(await db.prepare("SELECT user_id, actor, username FROM audit_logs WHERE id = 9").first()).toEqual({
      user_id: null,
      actor: "user:3",
      username: "u",
    });

    await rollBackAll(db);
  });
});

describe("the main database (env.DB, migrated by test/setup.ts)", () => {
  it("has every migration recorded", async () => {
    expect(await appliedNames(env.DB)).toEqual(names);
  });

  it("has every table the services use", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
      name: string;
    }>();
    const tables = results.map((r) => r.name);
    for (const table of [
      "books",
      "series",
      "authors",
      "downloads",
      "missing_books",
      "metadata_corrections",
      "tasks",
      "failed_attempts",
      "users",
      "audit_logs",
      "api_keys",
      "revoked_tokens",
      "gap_runs",
      "scheduler_state",
    ]) {
      expect(tables, table).toContain(table);
    }
  });
});
