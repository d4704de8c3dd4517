// Expand/contract: during a gradual deploy the old and the new Worker version share one schema, and
// the migrations run before the new code serves anything. A migration that drops or renames a table
// or a column, or adds a NOT NULL column without a default, breaks the version still running. Such
// a file must say why that is safe with a `-- contract: <reason>` line (DEPLOYMENT.md, Migrations).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const CONTRACT_LINE = /^[ \t]*--[ \t]*contract:[ \t]*\S/im;
const NAME = String.raw`(?:\x60[^\x60]+\x60|"[^"]+"|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:\x60[^\x60]+\x60|"[^"]+"|\[[^\]]+\]|[\w$]+))?`;

const RULES = [
  { pattern: new RegExp(String.raw`\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(${NAME})`, "i"), says: (m) => `drops table ${m[1]}` },
  {
    pattern: new RegExp(String.raw`\bALTER\s+TABLE\s+(${NAME})\s+DROP\s+(?:COLUMN\s+)?(${NAME})`, "i"),
    says: (m) => `drops column ${m[2]} of ${m[1]}`,
  },
  {
    pattern: new RegExp(String.raw`\bALTER\s+TABLE\s+(${NAME})\s+RENAME\s+TO\s+(${NAME})`, "i"),
    says: (m) => `renames table ${m[1]} to ${m[2]}`,
  },
  {
    pattern: new RegExp(String.raw`\bALTER\s+TABLE\s+(${NAME})\s+RENAME\s+(?:COLUMN\s+)?(?!TO\b)(${NAME})\s+TO\s+(${NAME})`, "i"),
    says: (m) => `renames column ${m[2]} of ${m[1]} to ${m[3]}`,
  },
  {
    pattern: new RegExp(String.raw`\bALTER\s+TABLE\s+(${NAME})\s+ADD\s+(?:COLUMN\s+)?(${NAME})([\s\S]*)$`, "i"),
    says: (m) =>
      /\bNOT\s+NULL\b/i.test(m[3]) && !/\bDEFAULT\b/i.test(m[3]) ? `adds NOT NULL column ${m[2]} to ${m[1]} without a default` : null,
  },
];

/**
 * The SQL's statements with comments and string literals blanked out (so `'DROP TABLE'` in a string
 * or a comment is no change), each with the line it starts on. One pass, as SQLite reads it: a
 * quote inside a comment opens no string, and `--` inside a string starts no comment.
 */
function statements(sql) {
  let code = "";
  for (let i = 0; i < sql.length; ) {
    const two = sql.slice(i, i + 2);
    const end =
      two === "--" ? sql.indexOf("\n", i) : two === "/*" ? sql.indexOf("*/", i + 2) + 1 : sql[i] === "'" ? closingQuote(sql, i) : -2;
    if (end === -2) {
      code += sql[i++];
      continue;
    }
    const stop = end < 0 ? sql.length : end + (two === "--" ? 0 : 1);
    code += sql.slice(i, stop).replace(/[^\n]/g, " ");
    i = stop;
  }
  const found = [];
  let start = 0;
  for (const [index, char] of [...code, ";"].entries()) {
    if (char !== ";") continue;
    const text = code.slice(start, index);
    const lead = text.length - text.trimStart().length;
    if (text.trim()) found.push({ text: text.trim(), line: code.slice(0, start + lead).split("\n").length });
    start = index + 1;
  }
  return found;
}

/** The index of the quote closing the string that opens at `open` ('' is an escaped quote). */
function closingQuote(sql, open) {
  for (let i = open + 1; i < sql.length; i++) {
    if (sql[i] !== "'") continue;
    if (sql[i + 1] === "'") i++;
    else return i;
  }
  return -1;
}

/** Every contract change in one migration's SQL: [{line, change}]. */
export function contractChanges(sql) {
  const changes = [];
  for (const statement of statements(sql)) {
    for (const rule of RULES) {
      const match = statement.text.match(rule.pattern);
      const change = match && rule.says(match);
      if (change) changes.push({ line: statement.line, change });
    }
  }
  return changes;
}

/** True when the file states, in a `-- contract: <reason>` line, why its contract changes are safe. */
export const statesContract = (sql) => CONTRACT_LINE.test(sql);

/** The problems of the migrations in `dir` (not its rollback/ folder: a reverse drops by nature). */
export function expandContractProblems(dir) {
  const problems = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(path.join(dir, name), "utf8");
    if (statesContract(sql)) continue;
    for (const { line, change } of contractChanges(sql)) {
      problems.push(
        `${path.basename(dir)}/${name}:${line}: contract change (${change}): the running version breaks during a gradual deploy. ` +
          "Split it into an expand release and a later contract release, or state why it is safe in a `-- contract: <reason>` line.",
      );
    }
  }
  return problems;
}

// Data-only migrations: a migration changes the schema, unless its first line says it only changes
// rows (`-- data-only: <reason>`, e.g. a scrub of stored values); then it may hold no schema
// statement at all. test/db/migrations.test.ts holds each kind to it: a schema migration changes the
// schema, a data-only one leaves it exactly as it was.
const DATA_ONLY_LINE = /^--[ \t]*data-only:[ \t]*\S/;
const SCHEMA_STATEMENT = /^(CREATE|ALTER|DROP)\b/i;

/** True when the file's first line says it changes rows only. */
export const isDataOnly = (sql) => DATA_ONLY_LINE.test(sql);

/** The problems of the migrations in `dir` with the data-only rule: marked ones change no schema, unmarked ones do. */
export function dataOnlyProblems(dir) {
  const problems = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(path.join(dir, name), "utf8");
    const schema = statements(sql).filter((s) => SCHEMA_STATEMENT.test(s.text));
    const where = `${path.basename(dir)}/${name}`;
    if (isDataOnly(sql)) {
      for (const { line } of schema) {
        problems.push(`${where}:${line}: a schema statement in a migration marked \`-- data-only:\`; make it a migration of its own.`);
      }
    } else if (schema.length === 0) {
      problems.push(
        `${where}: changes no table, column or index. A migration that only changes rows says why in its first line: \`-- data-only: <reason>\`.`,
      );
    }
  }
  return problems;
}
