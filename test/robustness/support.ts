import { env } from "cloudflare:workers";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../../src/errors";
import { errorSchema } from "../../src/openapi/schemas";

// Shared by the robustness tests: the standard error body as a schema, and a snapshot of the
// whole database that tells whether a request changed anything.

/**
 * The standard error body (src/errors/render.ts), as documented in /openapi.json (`errorSchema`), plus
 * what a single schema cannot say: `status_code` equals the HTTP status, `code` is `error`
 * upper-cased, the code belongs to that status, `errors` comes with (and only with) a 422
 * validation failure, and `context` never appears in production.
 */
export function errorBodySchema(status: number, { production = false } = {}) {
  return errorSchema
    .extend({ status_code: z.literal(status), ...(production ? { context: z.never().optional() } : {}) })
    .superRefine((body, ctx) => {
      if (body.code !== body.error.toUpperCase())
        ctx.addIssue({ code: "custom", path: ["code"], message: `code ${body.code} is not ${body.error} upper-cased` });
      const known = ERROR_STATUS[body.error as ErrorCode];
      if (known !== status)
        ctx.addIssue({ code: "custom", path: ["error"], message: `${body.error} belongs to ${known}, answered with ${status}` });
      const isValidation = status === 422 && body.error === "validation_error";
      if (isValidation !== (body.errors !== undefined)) {
        ctx.addIssue({ code: "custom", path: ["errors"], message: "errors[] belongs to (and only to) a 422 validation_error" });
      }
    });
}

/** Throws a readable error unless `body` is the standard error body for `status`. */
export function assertErrorBody(body: unknown, status: number, options?: { production?: boolean }): void {
  const parsed = errorBodySchema(status, options).safeParse(body);
  if (!parsed.success) {
    throw new Error(`Not the standard error shape (${status}): ${z.prettifyError(parsed.error)}\n${JSON.stringify(body).slice(0, 2000)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Database snapshots
// ---------------------------------------------------------------------------------------------

const SNAP = "zz_snap_";

/** The application's tables: not SQLite's, D1's, virtual tables (FTS) and their shadow tables, or our snapshots. */
async function appTables(): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all<{
    name: string;
    sql: string | null;
  }>();
  const virtual = results.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql ?? "")).map((t) => t.name);
  return results
    .map((t) => t.name)
    .filter((name) => !/^(sqlite_|_cf_|d1_)/.test(name) && !name.startsWith(SNAP))
    .filter((name) => !virtual.some((v) => name === v || name.startsWith(`${v}_`)))
    .sort();
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A copy of every application table inside the same database (`CREATE TABLE zz_snap_x AS SELECT *`),
 * so that "did this request change anything" is a cheap SQL comparison of the full contents (every
 * column of every row, not only counts), however large the rows are.
 */
export class DatabaseSnapshot {
  private constructor(private readonly tables: string[]) {}

  static async take(): Promise<DatabaseSnapshot> {
    const snapshot = new DatabaseSnapshot(await appTables());
    await snapshot.refresh();
    return snapshot;
  }

  /** Copies the current contents (after a write that was allowed to change them). */
  async refresh(): Promise<void> {
    await env.DB.batch(
      this.tables.flatMap((t) => [
        env.DB.prepare(`DROP TABLE IF EXISTS ${q(SNAP + t)}`),
        env.DB.prepare(`CREATE TABLE ${q(SNAP + t)} AS SELECT * FROM ${q(t)}`),
      ]),
    );
  }

  /** The tables whose contents differ from the copy (row count, or any value of any row). */
  async changedTables(): Promise<string[]> {
    const results = await env.DB.batch<{ same: number }>(
      this.tables.map((t) =>
        env.DB.prepare(
          `SELECT (SELECT count(*) FROM ${q(t)}) = (SELECT count(*) FROM ${q(SNAP + t)})
             AND NOT EXISTS (SELECT * FROM ${q(t)} EXCEPT SELECT * FROM ${q(SNAP + t)}) AS same`,
        ),
      ),
    );
    return this.tables.filter((_, i) => results[i]?.results[0]?.same !== 1);
  }

  /** Row counts per table, for messages. */
  async counts(): Promise<Record<string, number>> {
    const results = await env.DB.batch<{ n: number }>(this.tables.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${q(t)}`)));
    return Object.fromEntries(this.tables.map((t, i) => [t, results[i]?.results[0]?.n ?? -1]));
  }
}
