import { z } from "zod";
import { ConfigurationError, ServiceUnavailableError } from "./errors";
import { rateLimitsOverride } from "./rate-limit/tiers";

/**
 * Bindings in: the one place that reads `env`. Everything else asks for a `Config`.
 *
 * Production refuses to run with a weak secret; development and staging run with empty ones,
 * and only the features that need a secret answer 503 naming what to set.
 */

export const SECRET_NAMES = ["API_KEY", "JWT_SECRET", "PASSWORD_SALT"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** Keys of the outside services (INTEGRATIONS.md section 1); each is optional. */
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
/** Markers of a value copied from an example file (ours say "dev-only"); never a real secret. */
const EXAMPLE_MARKERS = ["dev-only", "change-me", "changeme", "change-in-production", "example", "your-secret", "placeholder"];

/** Whether a value was copied from an example file rather than really set. */
function isExampleValue(value: string): boolean {
  const lower = value.toLowerCase();
  return EXAMPLE_MARKERS.some((marker) => lower.includes(marker));
}

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
    UPSTREAM_ACCESS_CLIENT_ID: secret,
    UPSTREAM_ACCESS_CLIENT_SECRET: secret,
    UPSTREAM_TIMEOUT_MS: positiveInt("UPSTREAM_TIMEOUT_MS", 10_000),
    QB_MAX_ACTIVE: positiveInt("QB_MAX_ACTIVE", 3),
    QB_STALL_MINUTES: positiveInt("QB_STALL_MINUTES", 120),
    ACQUIRE_MAX_PER_RUN: positiveInt("ACQUIRE_MAX_PER_RUN", 5),
  })
  .superRefine((env, ctx) => {
    if (env.ENVIRONMENT !== "production") return;
    for (const name of SECRET_NAMES) {
      const problem = weakness(env[name]);
      if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
    }
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

type ParsedEnv = z.output<typeof envSchema>;

function weakness(value: string | undefined): string | undefined {
  if (!value) return "is missing or empty";
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (isExampleValue(value)) return "is an example value";
  return undefined;
}

/** The outside services, by the name their errors and /api/integrations use. */
export const SERVICE_NAMES = ["audiobookshelf", "qbittorrent", "prowlarr", "google_books"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A Workers VPC service binding (`ABS_VPC`, `QB_VPC`, `PROWLARR_VPC`): requests go through it instead of the internet. */
export interface VpcFetcher {
  fetch: typeof fetch;
}

export interface AudiobookshelfSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  token: string;
  /** One library, or undefined for every library whose mediaType is book. */
  libraryId: string | undefined;
}
export interface QbittorrentSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  /** 5.2+ API key; preferred over the login when set. */
  apiKey: string | undefined;
  login: { username: string; password: string } | undefined;
  category: string;
  savePath: string | undefined;
}
export interface ProwlarrSettings {
  url: string;
  fetcher?: VpcFetcher | undefined;
  apiKey: string;
}
export interface GoogleBooksSettings {
  url: string;
  apiKey: string;
}
interface ServiceSettings {
  audiobookshelf: AudiobookshelfSettings;
  qbittorrent: QbittorrentSettings;
  prowlarr: ProwlarrSettings;
  google_books: GoogleBooksSettings;
}

/** A service is configured with its settings, or not, with the bindings to set (names, never values). */
export type Integration<T> = { configured: true; settings: T } | { configured: false; missing: string[] };
export type Integrations = { [S in ServiceName]: Integration<ServiceSettings[S]> };

export interface UpstreamSettings {
  /** Deadline of one call, retries included. */
  timeoutMs: number;
  /** Cloudflare Access service token for the self-hosted services behind a Tunnel. */
  accessToken: { clientId: string; clientSecret: string } | undefined;
  qbMaxActive: number;
  qbStallMinutes: number;
  acquireMaxPerRun: number;
}

/** Outside production, a key still holding its example value ("change-me") counts as not set. */
function realKey(value: string | undefined): string | undefined {
  return value && !isExampleValue(value) ? value : undefined;
}

function integration<T>(settings: T | undefined, missing: string[]): Integration<T> {
  return settings && missing.length === 0 ? { configured: true, settings } : { configured: false, missing };
}

/** A binding that can fetch (a VPC service), else undefined. */
function vpcFetcher(bindings: Record<string, unknown>, name: string): VpcFetcher | undefined {
  const binding = bindings[name] as { fetch?: unknown } | undefined;
  return typeof binding?.fetch === "function" ? (binding as VpcFetcher) : undefined;
}

function integrationsOf(env: Partial<ParsedEnv>, bindings: Record<string, unknown> = {}): Integrations {
  const absToken = realKey(env.ABS_TOKEN);
  const qbKey = realKey(env.QB_API_KEY);
  const qbPassword = realKey(env.QB_PASSWORD);
  const qbLogin = env.QB_USERNAME && qbPassword ? { username: env.QB_USERNAME, password: qbPassword } : undefined;
  const prowlarrKey = realKey(env.PROWLARR_API_KEY);
  const googleKey = realKey(env.GOOGLE_BOOKS_API_KEY);
  const need = (pairs: [string, unknown][]) => pairs.filter(([, value]) => !value).map(([name]) => name);
  return {
    audiobookshelf: integration(
      env.ABS_URL && absToken
        ? { url: env.ABS_URL, fetcher: vpcFetcher(bindings, "ABS_VPC"), token: absToken, libraryId: env.ABS_LIBRARY_ID }
        : undefined,
      need([
        ["ABS_URL", env.ABS_URL],
        ["ABS_TOKEN", absToken],
      ]),
    ),
    qbittorrent: integration(
      env.QB_URL && (qbKey || qbLogin)
        ? {
            url: env.QB_URL,
            fetcher: vpcFetcher(bindings, "QB_VPC"),
            apiKey: qbKey,
            login: qbLogin,
            category: env.QB_CATEGORY ?? "audiobooks",
            savePath: env.QB_SAVE_PATH,
          }
        : undefined,
      need([
        ["QB_URL", env.QB_URL],
        ["QB_API_KEY (or QB_USERNAME and QB_PASSWORD)", qbKey || qbLogin],
      ]),
    ),
    prowlarr: integration(
      env.PROWLARR_URL && prowlarrKey
        ? { url: env.PROWLARR_URL, fetcher: vpcFetcher(bindings, "PROWLARR_VPC"), apiKey: prowlarrKey }
        : undefined,
      need([
        ["PROWLARR_URL", env.PROWLARR_URL],
        ["PROWLARR_API_KEY", prowlarrKey],
      ]),
    ),
    google_books: integration(
      googleKey ? { url: env.GOOGLE_BOOKS_URL ?? "https://www.googleapis.com/books/v1", apiKey: googleKey } : undefined,
      need([["GOOGLE_BOOKS_API_KEY", googleKey]]),
    ),
  };
}

function upstreamOf(env: Partial<ParsedEnv>): UpstreamSettings {
  const clientId = realKey(env.UPSTREAM_ACCESS_CLIENT_ID);
  const clientSecret = realKey(env.UPSTREAM_ACCESS_CLIENT_SECRET);
  return {
    timeoutMs: env.UPSTREAM_TIMEOUT_MS ?? 10_000,
    accessToken: clientId && clientSecret ? { clientId, clientSecret } : undefined,
    qbMaxActive: env.QB_MAX_ACTIVE ?? 3,
    qbStallMinutes: env.QB_STALL_MINUTES ?? 120,
    acquireMaxPerRun: env.ACQUIRE_MAX_PER_RUN ?? 5,
  };
}

export interface Config {
  environment: "development" | "staging" | "production";
  isProduction: boolean;
  secrets: Record<SecretName, string | undefined>;
  rateLimits: z.output<typeof rateLimitsOverride>;
  allowedOrigins: string[];
  /** Audiobookshelf, qBittorrent, Prowlarr, Google Books: each configured, or saying what to set. */
  integrations: Integrations;
  /** Deadline, Access service token and tuning shared by the outside services. */
  upstream: UpstreamSettings;
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
      integrations: integrationsOf(parsed.data, env as Record<string, unknown>),
      upstream: upstreamOf(parsed.data),
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
    integrations: integrationsOf({}),
    upstream: upstreamOf({}),
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

/** Display names, for messages. */
export const SERVICE_LABELS: Record<ServiceName, string> = {
  audiobookshelf: "Audiobookshelf",
  qbittorrent: "qBittorrent",
  prowlarr: "Prowlarr",
  google_books: "Google Books",
};

/** A service's settings, or a 503 `service_unavailable` naming the bindings to set (names only). */
export function requireService<S extends ServiceName>(config: Config, service: S): ServiceSettings[S] {
  const integration = config.integrations[service];
  if (integration.configured) return integration.settings;
  // Production names no binding (as /api/system/configuration); elsewhere it says what to set.
  throw new ServiceUnavailableError(
    config.isProduction
      ? `${SERVICE_LABELS[service]} is not configured`
      : `${SERVICE_LABELS[service]} is not configured: set ${integration.missing.join(" and ")} (see README, "Connecting your services")`,
  );
}
