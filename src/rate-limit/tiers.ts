import { z } from "zod";

/** The tiers (RATE_LIMITING.md, "Tiers") with their default limits. */
export const DEFAULT_LIMITS = {
  public: "10/minute",
  docs: "60/minute",
  authenticated: "60/minute",
  admin: "1000/minute",
  download: "20/hour",
  metadata: "30/minute",
  search: "20/minute",
  health: "100/minute",
  upload: "5/minute",
} as const;

export type Tier = keyof typeof DEFAULT_LIMITS;
export const TIERS = Object.keys(DEFAULT_LIMITS) as Tier[];

/** A budget: at most `limit` requests in any rolling window of `windowMs`. */
export interface Limit {
  limit: number;
  windowMs: number;
}

/**
 * When the limiter itself is down, these tiers refuse requests (they guard logins and heavy
 * writes, where an unlimited burst does harm); the others let requests through with a warning.
 */
export const FAIL_CLOSED_TIERS: ReadonlySet<Tier> = new Set<Tier>(["public", "upload"]);

const WINDOW_MS = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** { limit: 20, windowMs: 60000 } → "20/minute": the inverse of `limitString`. */
export function formatLimit({ limit, windowMs }: Limit): string {
  const unit = (Object.keys(WINDOW_MS) as (keyof typeof WINDOW_MS)[]).find((name) => WINDOW_MS[name] === windowMs);
  return unit ? `${limit}/${unit}` : `${limit}/${windowMs / 1000}s`;
}

/**
 * `RATE_LIMITS`: a JSON object of tier → limit string; unknown tiers are refused, not ignored.
 * Built by its first use (the configuration's parse, src/config/env.ts), not at startup.
 */
export const rateLimitsOverride = () => (override ??= buildOverride());
let override: ReturnType<typeof buildOverride> | undefined;

function buildOverride() {
  /** "20/minute" → { limit: 20, windowMs: 60000 }; also "5/second", "100/hour", "1000/day". */
  const limitString = z
    .string()
    .regex(/^\s*\d{1,7}\s*\/\s*(second|minute|hour|day)\s*$/, 'expected "<count>/<second|minute|hour|day>"')
    .transform((value): Limit => {
      const [count, unit] = value.split("/").map((part) => part.trim()) as [string, keyof typeof WINDOW_MS];
      return { limit: Number(count), windowMs: WINDOW_MS[unit] };
    })
    .refine((limit) => limit.limit >= 1, "the count must be at least 1");

  return z
    .string()
    .transform((raw, ctx) => {
      if (raw.trim() === "") return {};
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "RATE_LIMITS is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.partialRecord(z.enum(TIERS as [Tier, ...Tier[]]), limitString))
    .transform((overrides) => {
      const limits = {} as Record<Tier, Limit>;
      for (const tier of TIERS) limits[tier] = overrides[tier] ?? limitString.parse(DEFAULT_LIMITS[tier]);
      return limits;
    });
}
