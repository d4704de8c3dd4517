import { z } from "zod";
import { languageCode } from "../lib/language";
import { rateLimitsOverride } from "../rate-limit/tiers";

// The bindings as read: the schema that parses `env`, and what production refuses.

export const SECRET_NAMES = ["API_KEY", "JWT_SECRET", "PASSWORD_SALT"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** Keys of the outside services (README, "Connecting your services"); each is optional. */
export const UPSTREAM_SECRET_NAMES = [
  "ABS_TOKEN",
  "QB_API_KEY",
  "QB_PASSWORD",
  "PROWLARR_API_KEY",
  "GOOGLE_BOOKS_API_KEY",
  "UPSTREAM_ACCESS_CLIENT_ID",
  "UPSTREAM_ACCESS_CLIENT_SECRET",
] as const;

const MIN_SECRET_LENGTH = 32;
/** A generated secret of 32 characters has far more: `openssl rand -hex 16` fewer than 8 about once in 10^7. */
const MIN_DISTINCT_CHARACTERS = 8;
/**
 * Markers of a value copied from an example file (ours say "dev-only") or a documentation phrase;
 * never a real secret. Compared with case, spaces, `-` and `_` ignored: `change_me`, `Change Me`.
 */
const EXAMPLE_MARKERS = [
  "dev-only",
  "change-me",
  "change-in-production",
  "example",
  "your-secret",
  "placeholder",
  "correct horse battery staple",
  "the quick brown fox",
  "lorem ipsum",
  "super secret",
  "letmein",
  "qwerty",
].map((marker) => squeeze(marker));

function squeeze(value: string): string {
  return value.toLowerCase().replace(/[\s_-]+/g, "");
}

/** Whether a value was copied from an example file rather than really set. */
export function isExampleValue(value: string): boolean {
  const squeezed = squeeze(value);
  return EXAMPLE_MARKERS.some((marker) => squeezed.includes(marker));
}

/**
 * Downloads one acquisition may queue, the route's and the ACQUIRE task's (ACQUIRE_MAX_PER_RUN)
 * alike: each costs up to 3 Prowlarr searches (src/services/acquire.ts), so at most 30 searches a
 * run, within what indexers tolerate in a burst.
 */
export const MAX_DOWNLOADS_PER_RUN = 10;

export const REQUEST_ROLES = ["viewer", "operator", "admin"] as const;

/**
 * The schema that parses `env`, built by its first use (the first request's `getConfig`), not at
 * startup: an isolate builds it once (npm run bench -- startup).
 */
export const envSchema = () => (schema ??= buildEnvSchema());
let schema: ReturnType<typeof buildEnvSchema> | undefined;

function buildEnvSchema() {
  const secret = z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined);

  /** An optional plain value (a var): blank is unset. */
  const optionalVar = secret;

  /** An optional http(s) base URL, without its trailing slash; the message names the binding, never the value. */
  const baseUrl = (name: string) =>
    optionalVar.transform((value, ctx) => {
      if (value === undefined) return undefined;
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash || url.username || url.password) {
        ctx.addIssue({ code: "custom", message: `${name} is not an http(s) base URL (no query, fragment or credentials)` });
        return z.NEVER;
      }
      return url.href.replace(/\/+$/, "");
    });

  /** A positive whole number given as a string var; blank takes the default. */
  const positiveInt = (name: string, fallback: number) =>
    optionalVar.transform((value, ctx) => {
      if (value === undefined) return fallback;
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) {
        ctx.addIssue({ code: "custom", message: `${name} must be a positive whole number` });
        return z.NEVER;
      }
      return Number(value);
    });

  /** A positive whole number no larger than `max` (an operator's value past what one run may cost). */
  const boundedInt = (name: string, fallback: number, max: number) =>
    positiveInt(name, fallback).superRefine((value, ctx) => {
      if (value > max) ctx.addIssue({ code: "custom", message: `${name} must be at most ${max}` });
    });

  /** The roles whose requests are approved at once: a comma list ("operator,admin"), "none" for none. */
  const autoApproveRoles = optionalVar.transform((value, ctx) => {
    if (value === undefined) return ["operator", "admin"] as (typeof REQUEST_ROLES)[number][];
    if (value.toLowerCase() === "none") return [];
    const roles = value.split(",").map((role) => role.trim().toLowerCase());
    const unknown = roles.filter((role) => !(REQUEST_ROLES as readonly string[]).includes(role));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `REQUESTS_AUTO_APPROVE names no role ${unknown.join(", ")} (viewer, operator, admin, or none)`,
      });
      return z.NEVER;
    }
    return roles as (typeof REQUEST_ROLES)[number][];
  });

  /**
   * The language releases must be in (README, "Configuration"): a code as MyAnonamouse tags releases
   * (`ENG`, also `en` or `English`), `any` for no filter; English by default.
   */
  const releaseLanguage = optionalVar.transform((value, ctx) => {
    if (value === undefined) return "ENG";
    if (value.toLowerCase() === "any") return null;
    const code = languageCode(value);
    if (code) return code;
    ctx.addIssue({ code: "custom", message: "RELEASE_LANGUAGE must be a language code such as ENG or GER, or any" });
    return z.NEVER;
  });

  return z
    .object({
      ENVIRONMENT: z.enum(["development", "staging", "production"]),
      API_KEY: secret,
      JWT_SECRET: secret,
      PASSWORD_SALT: secret,
      RATE_LIMITS: z.string().optional().default("").pipe(rateLimitsOverride()),
      ALLOWED_ORIGINS: z
        .string()
        .optional()
        .default("")
        .transform((list) =>
          list
            .split(",")
            .map((origin) => origin.trim())
            .filter(Boolean),
        ),
      ABS_URL: baseUrl("ABS_URL"),
      ABS_TOKEN: secret,
      ABS_LIBRARY_ID: optionalVar,
      QB_URL: baseUrl("QB_URL"),
      QB_API_KEY: secret,
      QB_USERNAME: optionalVar,
      QB_PASSWORD: secret,
      QB_CATEGORY: optionalVar.transform((value) => value ?? "audiobooks"),
      QB_SAVE_PATH: optionalVar,
      PROWLARR_URL: baseUrl("PROWLARR_URL"),
      PROWLARR_API_KEY: secret,
      GOOGLE_BOOKS_API_KEY: secret,
      GOOGLE_BOOKS_URL: baseUrl("GOOGLE_BOOKS_URL").transform((value) => value ?? "https://www.googleapis.com/books/v1"),
      // Public and keyless, so configured by default: series knowledge works out of the box.
      AUDIBLE_URL: baseUrl("AUDIBLE_URL").transform((value) => value ?? "https://api.audible.com"),
      UPSTREAM_ACCESS_CLIENT_ID: secret,
      UPSTREAM_ACCESS_CLIENT_SECRET: secret,
      UPSTREAM_TIMEOUT_MS: positiveInt("UPSTREAM_TIMEOUT_MS", 10_000),
      QB_MAX_ACTIVE: positiveInt("QB_MAX_ACTIVE", 3),
      QB_STALL_MINUTES: positiveInt("QB_STALL_MINUTES", 120),
      RELEASE_LANGUAGE: releaseLanguage,
      ACQUIRE_MAX_PER_RUN: boundedInt("ACQUIRE_MAX_PER_RUN", 5, MAX_DOWNLOADS_PER_RUN),
      REQUESTS_PER_DAY: positiveInt("REQUESTS_PER_DAY", 5),
      REQUESTS_AUTO_APPROVE: autoApproveRoles,
    })
    .superRefine((env, ctx) => {
      if (env.ENVIRONMENT !== "production") return;
      for (const name of SECRET_NAMES) {
        const problem = weakness(env[name]);
        if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
      }
      // One leaked value must not open the others: a key that signs tokens too forges any user.
      SECRET_NAMES.forEach((name, i) => {
        const same = SECRET_NAMES.slice(0, i).find((other) => env[other] && env[other] === env[name]);
        if (same) ctx.addIssue({ code: "custom", path: [name], message: `is the same value as ${same}` });
      });
      // Upstream keys have their own formats (no length rule), but an example value is never real.
      for (const name of UPSTREAM_SECRET_NAMES) {
        const value = env[name];
        if (value && isExampleValue(value)) ctx.addIssue({ code: "custom", path: [name], message: "is an example value" });
      }
      const access = [env.UPSTREAM_ACCESS_CLIENT_ID, env.UPSTREAM_ACCESS_CLIENT_SECRET].filter(Boolean).length;
      if (access === 1)
        ctx.addIssue({
          code: "custom",
          path: ["UPSTREAM_ACCESS_CLIENT_ID"],
          message: "and UPSTREAM_ACCESS_CLIENT_SECRET must be set together",
        });
    });
}

export type ParsedEnv = z.output<ReturnType<typeof envSchema>>;

function weakness(value: string | undefined): string | undefined {
  if (!value) return "is missing or empty";
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (isExampleValue(value)) return "is an example value";
  if (/^\d+$/.test(value)) return "is only digits (generate one: openssl rand -base64 48)";
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS)
    return `has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters (generate one: openssl rand -base64 48)`;
  return undefined;
}
