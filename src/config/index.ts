import type { z } from "zod";
import { ConfigurationError } from "../errors";
import { rateLimitsOverride } from "../rate-limit/tiers";
import { envSchema, type SecretName } from "./env";
import { type Integrations, integrationsOf, type UpstreamSettings, upstreamOf } from "./services";

/**
 * Bindings in: the one place that reads `env` (./env.ts parses it, ./services.ts the outside services). Everything else asks for a `Config`.
 *
 * Production refuses to run with a weak secret; development and staging run with empty ones,
 * and only the features that need a secret answer 503 naming what to set.
 */

export { MAX_DOWNLOADS_PER_RUN, SECRET_NAMES, type SecretName, UPSTREAM_SECRET_NAMES } from "./env";
export {
  type AudibleSettings,
  type AudiobookshelfSettings,
  type GoogleBooksSettings,
  type Integration,
  type Integrations,
  type ProwlarrSettings,
  type QbittorrentSettings,
  requireService,
  SERVICE_LABELS,
  SERVICE_NAMES,
  type ServiceName,
  type UpstreamSettings,
  type VpcFetcher,
} from "./services";

export interface Config {
  environment: "development" | "staging" | "production";
  isProduction: boolean;
  secrets: Record<SecretName, string | undefined>;
  rateLimits: z.output<ReturnType<typeof rateLimitsOverride>>;
  allowedOrigins: string[];
  /** Audiobookshelf, qBittorrent, Prowlarr, Google Books: each configured, or saying what to set. */
  integrations: Integrations;
  /** Deadline, Access service token and tuning shared by the outside services. */
  upstream: UpstreamSettings;
  /** Requests (src/services/requests/): how many a requester may make in 24 hours, and whose are approved at once. */
  requests: { perDay: number; autoApprove: ("viewer" | "operator" | "admin")[] };
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
  const parsed = envSchema().safeParse(env);
  if (parsed.success) {
    const { ENVIRONMENT, API_KEY, JWT_SECRET, PASSWORD_SALT, RATE_LIMITS, ALLOWED_ORIGINS, REQUESTS_PER_DAY, REQUESTS_AUTO_APPROVE } =
      parsed.data;
    return {
      environment: ENVIRONMENT,
      isProduction: ENVIRONMENT === "production",
      secrets: { API_KEY, JWT_SECRET, PASSWORD_SALT },
      rateLimits: RATE_LIMITS,
      allowedOrigins: ALLOWED_ORIGINS,
      integrations: integrationsOf(parsed.data, env as Record<string, unknown>),
      upstream: upstreamOf(parsed.data),
      requests: { perDay: REQUESTS_PER_DAY, autoApprove: REQUESTS_AUTO_APPROVE },
      problems: [],
    };
  }
  // Unusable configuration: keep what can be read, and behave as production (hide internals)
  // unless the environment is explicitly a non-production one.
  const environment = envSchema().shape.ENVIRONMENT.safeParse(env.ENVIRONMENT).data ?? "production";
  return {
    environment,
    isProduction: environment === "production",
    secrets: { API_KEY: undefined, JWT_SECRET: undefined, PASSWORD_SALT: undefined },
    rateLimits: rateLimitsOverride().parse(""),
    allowedOrigins: [],
    integrations: integrationsOf({}),
    upstream: upstreamOf({}),
    requests: { perDay: 5, autoApprove: [] },
    problems: parsed.error.issues.map(problemOf),
  };
}

/** "JWT_SECRET is missing or empty"; a message that already names its binding stands alone. */
function problemOf(issue: z.core.$ZodIssue): string {
  const name = issue.path.join(".");
  if (!name || issue.message.startsWith(`${name} `)) return issue.message;
  return `${name} ${issue.message}`;
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
