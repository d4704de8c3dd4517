import { Cron } from "croner";

/**
 * Cron expressions as Cloudflare's Cron Triggers read them, for answering "when next?": five
 * fields, UTC, weekdays 1-7 counted from Sunday (Quartz style) or by name. croner evaluates them
 * (no timers: a `Cron` without a callback only computes dates).
 */

/** The one Cron Trigger of wrangler.toml: the dispatcher's tick (src/scheduler/dispatch.ts). */
export const TICK_CRON = "*/5 * * * *";
export const TICK_MS = 5 * 60_000;

const cache = new Map<string, Cron>();

function parsed(expression: string): Cron {
  let cron = cache.get(expression);
  if (!cron) {
    cron = new Cron(expression, { timezone: "UTC", mode: "5-part", alternativeWeekdays: true });
    cache.set(expression, cron);
  }
  return cron;
}

/** Throws when croner (and so, presumably, Cloudflare) would not accept the expression. */
export function assertValidCron(expression: string): void {
  parsed(expression);
}

/**
 * Why a cron sent to PUT .../schedule is refused, or null: five fields (minute hour day month
 * weekday, as Cloudflare reads them) that croner accepts and that fire at least once more.
 */
export function cronProblem(expression: string): string | null {
  const fields = normalizeCron(expression).split(" ");
  if (fields.length !== 5) return `needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  try {
    assertValidCron(normalizeCron(expression));
  } catch (error) {
    return error instanceof Error ? error.message : "is not a valid cron expression";
  }
  return nextRun(normalizeCron(expression), new Date()) === null ? "never fires again" : null;
}

/** The first run strictly after `after`, or null for an expression that never fires again. */
export function nextRun(expression: string, after: Date): Date | null {
  return parsed(expression).nextRun(after);
}

/** Every run in (from, to], in order. */
export function runsBetween(expression: string, from: Date, to: Date): Date[] {
  const runs: Date[] = [];
  for (let run = nextRun(expression, from); run && run <= to; run = nextRun(expression, run)) runs.push(run);
  return runs;
}

/** Whitespace-insensitive form, to match `controller.cron` against the table. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(" ");
}
