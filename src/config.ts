import { z } from "zod";
import { ConfigurationError } from "./errors";
import { rateLimitsOverride } from "./rate-limit/tiers";

/**
 * Bindings in: the one place that reads `env`. Everything else asks for a `Config`.
 *
 * Production refuses to run with a weak secret; development and staging run with empty ones,
 * and only the features that need a secret answer 503 naming what to set.
 */

export const SECRET_NAMES = ["API_KEY", "JWT_SECRET", "PASSWORD_SALT"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const MIN_SECRET_LENGTH = 32;
/** Markers of a value copied from an example file (ours say "dev-only"); never a real secret. */
const EXAMPLE_MARKERS = ["dev-only", "change-me", "changeme", "change-in-production", "example", "your-secret", "placeholder"];

const secret = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

const envSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "staging", "production"]),
    API_KEY: secret,
    JWT_SECRET: secret,
    PASSWORD_SALT: secret,
    RATE_LIMITS: z.string().optional().default("").pipe(rateLimitsOverride),
    ALLOWED_ORIGINS: z
      .string()
      .optional()
      .default("")
      .transform((list) => list.split(",").map((origin) => origin.trim()).filter(Boolean)),
  })
  .superRefine((env, ctx) => {
    if (env.ENVIRONMENT !== "production") return;
    for (const name of SECRET_NAMES) {
      const problem = weakness(env[name]);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
    }
  });

function weakness(value: string | undefined): string | undefined {
  if (!value) return "is missing or empty";
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  const lower = value.toLowerCase();
  if (EXAMPLE_MARKERS.some((marker) => lower.includes(marker))) return "is an example value";
  return undefined;
}

export interface Config {
  environment: "development" | "staging" | "production";
  isProduction: boolean;
  secrets: Record<SecretName, string | undefined>;
  rateLimits: z.output<typeof rateLimitsOverride>;
  allowedOrigins: string[];
  /** What is wrong, by binding name, e.g. "JWT_SECRET is missing or empty". Empty when usable. */
  problems: string[];
}

const cache = new WeakMap<object, Config>();

/** Parses the bindings once per `env` object (one per isolate) and logs any problem once. */
export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env);
    cache.set(env, config);
    if (config.problems.length > 0) {
      // Names only, never values: this goes to Workers Logs.
      console.error(JSON.stringify({ level: "error", event: "configuration_invalid", problems: config.problems }));
    }
  }
  return config;
}

export function parseConfig(env: Partial<Record<keyof Env, unknown>>): Config {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) {
    const { ENVIRONMENT, API_KEY, JWT_SECRET, PASSWORD_SALT, RATE_LIMITS, ALLOWED_ORIGINS } = parsed.data;
    return {
      environment: ENVIRONMENT,
      isProduction: ENVIRONMENT === "production",
      secrets: { API_KEY, JWT_SECRET, PASSWORD_SALT },
      rateLimits: RATE_LIMITS,
      allowedOrigins: ALLOWED_ORIGINS,
      problems: [],
    };
  }
  // Unusable configuration: keep what can be read, and behave as production (hide internals)
  // unless the environment is explicitly a non-production one.
  const environment = envSchema.shape.ENVIRONMENT.safeParse(env.ENVIRONMENT).data ?? "production";
  return {
    environment,
    isProduction: environment === "production",
    secrets: { API_KEY: undefined, JWT_SECRET: undefined, PASSWORD_SALT: undefined },
    rateLimits: rateLimitsOverride.parse(""),
    allowedOrigins: [],
    problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "env"} ${issue.message}`),
  };
}

/**
 * The secret a feature needs, or a 503 saying what to set. Only reachable outside production
 * (production with a weak secret never gets past the configuration guard).
 */
export function requireSecret(config: Config, name: SecretName): string {
  const value = config.secrets[name];
  if (value) return value;
  throw new ConfigurationError(
    config.isProduction
      ? "The service is not configured"
      : `${name} is not set: add it to .dev.vars (see .dev.vars.example) or run \`wrangler secret put ${name}\``,
  );
}
