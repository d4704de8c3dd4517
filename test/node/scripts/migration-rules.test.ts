import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contractChanges, dataOnlyProblems, expandContractProblems } from "../../../scripts/lib/migration-rules.js";

// The expand/contract rule of `npm run db:check` (scripts/check-migrations.js), fed migrations in
// the form drizzle-kit writes them for SQLite.
const root = path.resolve(import.meta.dirname, "../../..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A migrations folder holding `files`; returns what the check (expand/contract by default) says about it. */
function check(files: Record<string, string>, rule: (dir: string) => string[] = expandContractProblems): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), "drizzle-"));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return rule(dir);
}

const DROP_COLUMN = "ALTER TABLE `books` DROP COLUMN `narrator`;";
const RENAME_COLUMN = "ALTER TABLE `books` RENAME COLUMN `narrator` TO `reader`;";
const RENAME_TABLE = "ALTER TABLE `gap_runs` RENAME TO `gap_analysis_runs`;";
const DROP_TABLE = "DROP TABLE `failed_attempts`;";
const NOT_NULL_NO_DEFAULT = "ALTER TABLE `books` ADD `edition` text NOT NULL;";
// drizzle-kit's way to change a column in SQLite: a new table, a copy, a drop, a rename.
const TABLE_REBUILD = [
  "PRAGMA foreign_keys=OFF;",
  "CREATE TABLE `__new_series` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`name` text NOT NULL\n);",
  'INSERT INTO `__new_series`("id", "name") SELECT "id", "name" FROM `series`;',
  "DROP TABLE `series`;",
  "ALTER TABLE `__new_series` RENAME TO `series`;",
  "PRAGMA foreign_keys=ON;",
].join("--> statement-breakpoint\n");

describe("the expand/contract check of npm run db:check", () => {
  it("passes the repository's migrations as they are (none needed a -- contract: line)", () => {
    expect(expandContractProblems(path.join(root, "drizzle"))).toEqual([]);
  });

  it.each([
    ["a dropped column", DROP_COLUMN, "drops column `narrator` of `books`"],
    ["a renamed column", RENAME_COLUMN, "renames column `narrator` of `books` to `reader`"],
    ["a renamed table", RENAME_TABLE, "renames table `gap_runs` to `gap_analysis_runs`"],
    ["a dropped table", DROP_TABLE, "drops table `failed_attempts`"],
    ["a NOT NULL column without a default", NOT_NULL_NO_DEFAULT, "adds NOT NULL column `edition` to `books` without a default"],
  ])("fails on %s, naming the file, the line and the change", (_, sql, change) => {
    const problems = check({ "0005_change.sql": `-- A change.\n${sql}\n` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^drizzle-\w+\/0005_change\.sql:2: contract change \(/);
    expect(problems[0]).toContain(change);
    expect(problems[0]).toContain("-- contract:");
  });

  it("fails on drizzle-kit's table rebuild (the drop and the rename)", () => {
    expect(contractChanges(TABLE_REBUILD).map((c) => c.change)).toEqual([
      "drops table `series`",
      "renames table `__new_series` to `series`",
    ]);
  });

  it.each([
    ["a dropped column", DROP_COLUMN],
    ["a renamed column", RENAME_COLUMN],
    ["a renamed table", RENAME_TABLE],
    ["a dropped table", DROP_TABLE],
    ["a NOT NULL column without a default", NOT_NULL_NO_DEFAULT],
    ["a table rebuild", TABLE_REBUILD],
  ])("accepts %s when the file states why in a -- contract: line", (_, sql) => {
    expect(check({ "0005_change.sql": `-- contract: no released version reads it since 2026-11-20\n${sql}\n` })).toEqual([]);
  });

  it("wants a reason after -- contract:, and judges each file by its own line", () => {
    expect(check({ "0005_a.sql": `-- contract:\n${DROP_COLUMN}` })).toHaveLength(1);
    const problems = check({ "0005_a.sql": `-- contract: unused since 0004\n${DROP_COLUMN}`, "0006_b.sql": DROP_TABLE });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("0006_b.sql:1:");
  });

  it("finds the -- contract: line anywhere in the file, indented or not, but not trailing a statement", () => {
    // As a developer writes it: under drizzle-kit's statements, or after a first comment line.
    const below = `${NOT_NULL_NO_DEFAULT}\n--> statement-breakpoint\n${DROP_COLUMN}\n  -- Contract: nothing reads narrator since 0004\n`;
    expect(check({ "0005_a.sql": below })).toEqual([]);
    expect(check({ "0005_a.sql": `-- Drop the narrator column.\n-- contract: unused since 0004\n${DROP_COLUMN}` })).toEqual([]);
    expect(check({ "0005_a.sql": `${DROP_COLUMN} -- contract: unused since 0004\n` })).toHaveLength(1);
  });

  it("lets expand changes through", () => {
    const expand = [
      "ALTER TABLE `books` ADD `edition` text;",
      "ALTER TABLE `books` ADD COLUMN `rating` integer DEFAULT 0 NOT NULL;",
      "ALTER TABLE `books` ADD `format` text NOT NULL DEFAULT 'm4b';",
      "CREATE TABLE `tags` (`id` integer PRIMARY KEY NOT NULL, `name` text NOT NULL);",
      "CREATE INDEX `books_edition_idx` ON `books` (`edition`);",
      "DROP INDEX `books_title_idx`;",
      "CREATE TRIGGER `t` AFTER DELETE ON `books` BEGIN DELETE FROM tags WHERE id = old.id; END;",
      "UPDATE `books` SET `format` = 'mp3' WHERE `format` IS NULL;",
    ].join("--> statement-breakpoint\n");
    expect(contractChanges(expand)).toEqual([]);
  });

  it("reads no change in comments or strings", () => {
    const sql = [
      "-- The old version's DROP TABLE books; would break here (an apostrophe in a comment opens no string)",
      "/* ALTER TABLE books DROP COLUMN title; */",
      "INSERT INTO audit_logs (action, resource, details) VALUES ('migrate', 'books', 'DROP TABLE x; -- not SQL');",
    ].join("\n");
    expect(contractChanges(sql)).toEqual([]);
    expect(contractChanges(`${sql}\n${DROP_COLUMN}`)).toEqual([{ line: 4, change: "drops column `narrator` of `books`" }]);
  });
});

describe("the data-only rule of npm run db:check", () => {
  const SCRUB = "UPDATE `downloads` SET `torrent_url` = NULL WHERE `torrent_url` LIKE '%apikey=%';";

  it("passes the repository's migrations as they are", () => {
    expect(dataOnlyProblems(path.join(root, "drizzle"))).toEqual([]);
  });

  it("fails on a migration that changes no schema and does not say it changes rows only", () => {
    expect(check({ "0005_scrub.sql": `-- A scrub.\n${SCRUB}\n` }, dataOnlyProblems)).toEqual([
      expect.stringMatching(/^drizzle-\w+\/0005_scrub\.sql: changes no table, column or index\. .*`-- data-only: <reason>`/),
    ]);
  });

  it("lets a data-only migration through when its first line says so, and only there", () => {
    expect(check({ "0005_scrub.sql": `-- data-only: keys out of old links\n${SCRUB}\n` }, dataOnlyProblems)).toEqual([]);
    expect(check({ "0005_scrub.sql": `-- A scrub.\n-- data-only: keys out of old links\n${SCRUB}\n` }, dataOnlyProblems)).toHaveLength(1);
    expect(check({ "0005_scrub.sql": `-- data-only:\n${SCRUB}\n` }, dataOnlyProblems)).toHaveLength(1);
  });

  it("fails on a schema statement in a migration marked data-only, naming its line", () => {
    const problems = check(
      { "0005_scrub.sql": `-- data-only: a scrub\n${SCRUB}\n${NOT_NULL_NO_DEFAULT.replace(" NOT NULL", "")}\n` },
      dataOnlyProblems,
    );
    expect(problems).toEqual([
      expect.stringMatching(/^drizzle-\w+\/0005_scrub\.sql:3: a schema statement in a migration marked `-- data-only:`/),
    ]);
  });

  it("counts a schema change hidden in no comment or string", () => {
    expect(check({ "0005_scrub.sql": `-- CREATE TABLE x (a);\nUPDATE t SET a = 'ALTER TABLE';\n` }, dataOnlyProblems)).toHaveLength(1);
    expect(check({ "0005_add.sql": "ALTER TABLE `books` ADD `edition` text;\n" }, dataOnlyProblems)).toEqual([]);
  });
});

describe("npm run db:check (scripts/check-migrations.js)", () => {
  /** Runs the check in a copy of the project whose drizzle/ gains `sql` as its next migration (none: as it is), after `edit`. */
  function dbCheck(sql: string | undefined, edit: (copy: string) => void = () => {}) {
    const copy = mkdtempSync(path.join(tmpdir(), "db-check-"));
    dirs.push(copy);
    for (const item of ["scripts", "drizzle", "package.json"]) cpSync(path.join(root, item), path.join(copy, item), { recursive: true });
    mkdirSync(path.join(copy, "src/db"), { recursive: true });
    cpSync(path.join(root, "src/db/schema"), path.join(copy, "src/db/schema"), { recursive: true });
    symlinkSync(path.join(root, "node_modules"), path.join(copy, "node_modules"));
    if (sql !== undefined) {
      writeFileSync(path.join(copy, "drizzle/0099_change.sql"), sql);
      writeFileSync(path.join(copy, "drizzle/rollback/0099_change.sql"), "SELECT 1;");
    }
    edit(copy);
    const result = spawnSync(process.execPath, ["scripts/check-migrations.js"], { cwd: copy, encoding: "utf8" });
    return { status: result.status, out: `${result.stdout}${result.stderr}` };
  }

  it("passes the project as it is, and says so", () => {
    const run = dbCheck(undefined);
    expect(run.status, run.out).toBe(0);
    expect(run.out).toMatch(/^check-migrations: src\/db\/schema\/ and drizzle\/ agree \(\d+ migrations, each with a rollback/);
  }, 60_000);

  it("fails on a schema change no migration holds, naming the files drizzle-kit would write, and says how to fix it", () => {
    const run = dbCheck(undefined, (copy) =>
      appendFileSync(
        path.join(copy, "src/db/schema/index.ts"),
        'import { integer, sqliteTable } from "drizzle-orm/sqlite-core";\nexport const extraThings = sqliteTable("extra_things", { id: integer("id").primaryKey() });\n',
      ),
    );
    expect(run.status).toBe(1);
    expect(run.out).toMatch(/src\/db\/schema\/ has changes that no migration in drizzle\/ holds \(drizzle-kit would write \S+\.sql/);
    expect(run.out).toContain("Run `npm run db:generate`");
  }, 60_000);

  it("fails when drizzle/ has migrations but no journal", () => {
    const run = dbCheck(undefined, (copy) => rmSync(path.join(copy, "drizzle/meta/_journal.json")));
    expect(run.status).toBe(1);
    expect(run.out).toContain("drizzle/meta/_journal.json is missing: drizzle/ was not written by drizzle-kit.");
  }, 60_000);

  it("fails on a migration that drops a column, and names the rule", () => {
    const run = dbCheck(`${DROP_COLUMN}\n`);
    expect(run.status).toBe(1);
    expect(run.out).toContain("drizzle/0099_change.sql:1: contract change (drops column `narrator` of `books`)");
  }, 60_000);

  it("does not raise the rule for the same migration with a -- contract: line", () => {
    const run = dbCheck(`-- contract: narrator moved to book_narrators in 0098; nothing reads it since\n${DROP_COLUMN}\n`);
    // (It still fails here for other reasons: the hand-made file is not in drizzle-kit's journal.)
    expect(run.out).not.toContain("contract change");
  }, 60_000);
});
