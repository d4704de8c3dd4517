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

/** Each field's name and the numbers Cloudflare accepts in it (weekdays 1-7, 1 = Sunday). */
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day-of-week", min: 1, max: 7 },
] as const;
/** Runs looked at for two closer than the tick: enough to meet every minute, hour, day and month boundary of a pattern. */
const GAP_RUNS_CHECKED = 1_000;

/** Why one field is refused, or null: only numbers in range, names, `*`, `,`, `-`, `/`, `L`, `#` (no Quartz `?`). */
function fieldProblem(field: string, { name, min, max }: (typeof FIELDS)[number]): string | null {
  if (!/^[\dA-Za-z*,\-/#]+$/.test(field)) return `the ${name} field "${field}" has a character cron does not take here`;
  // Numbers after `/` are steps and after `#` the nth weekday: not values of the field.
  for (const match of field.matchAll(/(^|[,-])(\d+)/g)) {
    const value = Number(match[2]);
    if (value < min || value > max) return `the ${name} field allows ${min}-${max}, not ${value}`;
  }
  return null;
}

/**
 * Why a cron sent to PUT .../schedule is refused, or null: five fields (minute hour day month
 * weekday, as Cloudflare reads them), each in range, that croner accepts, that fire at least
 * once more, and never twice within the dispatcher's 5-minute tick (a finer cron would still run
 * once a tick, so it says what it does not do).
 */
export function cronProblem(expression: string, now = new Date()): string | null {
  const normalized = normalizeCron(expression);
  const fields = normalized.split(" ");
  if (fields.length !== 5) return `needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const problem = fieldProblem(field, FIELDS[i]!);
    if (problem) return problem;
  }
  try {
    assertValidCron(normalized);
  } catch (error) {
    return error instanceof Error ? error.message : "is not a valid cron expression";
  }
  let previous = nextRun(normalized, now);
  if (previous === null) return "never fires again";
  for (let i = 0; i < GAP_RUNS_CHECKED; i++) {
    const run = nextRun(normalized, previous);
    if (run === null) break;
    if (run.getTime() - previous.getTime() < TICK_MS)
      return `fires more often than the 5-minute tick (${previous.toISOString()} and ${run.toISOString()})`;
    previous = run;
  }
  return null;
}

/** The first run strictly after `after`, or null for an expression that never fires again. */
export function nextRun(expression: string, after: Date): Date | null {
  return parsed(expression).nextRun(after);
}

/** The runs in (from, to], in order: at most `max` of them. */
export function runsBetween(expression: string, from: Date, to: Date, max: number): Date[] {
  const runs: Date[] = [];
  for (let run = nextRun(expression, from); run && run <= to && runs.length < max; run = nextRun(expression, run)) runs.push(run);
  return runs;
}

/** Whitespace-insensitive form, to match `controller.cron` against the table. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(" ");
}
