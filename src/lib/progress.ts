import type { Context } from "hono";
import { stream } from "hono/streaming";
import { renderError } from "../errors";
import { ok } from "./response";

/** Newline-delimited JSON: one JSON value a line, each readable as it arrives (`curl -N`). */
export const NDJSON = "application/x-ndjson";

/** Whether the caller asked to follow a long piece of work as it goes (`Accept: application/x-ndjson`). */
export function wantsProgress(c: Context): boolean {
  return (c.req.header("Accept") ?? "").toLowerCase().includes(NDJSON);
}

/**
 * Answers 200 at once, then one line `{"progress": …}` for each step `work` reports, then a last
 * line that is the answer the route gives without progress: the success envelope, or the standard
 * error body (its `status_code` says what the HTTP status, already sent, could not).
 */
export function withProgress<T, P>(c: Context, work: (report: (progress: P) => Promise<void>) => Promise<T>): Response {
  c.header("Content-Type", `${NDJSON}; charset=utf-8`);
  return stream(c, async (out) => {
    const line = (text: string) => out.write(`${text}\n`);
    let last: string;
    try {
      const data = await work((progress) => line(JSON.stringify({ progress })).then(() => undefined));
      last = await ok(c, data).text();
    } catch (error) {
      last = await renderError(c, error).text();
    }
    await line(last);
  });
}
