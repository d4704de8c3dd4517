import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { parseConfig, requireService, SECRET_NAMES, UPSTREAM_SECRET_NAMES } from "../src/config";
import { AppError } from "../src/errors";
import { errorShape, withEnv } from "./helpers";

const strong = (name: string) => `${name.toLowerCase()}-${"k7Qx9vR2mW4pL8sT".repeat(3)}`;
const strongSecrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, strong(name)]));
const production = { ...strongSecrets, ENVIRONMENT: "production" };

/** name=value pairs of .dev.vars.example, read at build time so the test sees the real file. */
const exampleValues = Object.fromEntries(
  devVarsExample
    .split("\n")
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()]),
);

describe("configuration", () => {
  it("accepts strong secrets in production", () => {
    const config = parseConfig(production);
    expect(config.problems).toEqual([]);
    expect(config.isProduction).toBe(true);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["blank", "   "],
    ["short", "a".repeat(31)],
    ["example-marked", `change-me-${"x".repeat(40)}`],
    // Issue 23: weak values that passed the length rule.
    ["one repeated letter", "a".repeat(32)],
    ["digits-only", "1234567890".repeat(3).concat("12")],
    ["underscore-marked", `change_me_${"k7Qx9vR2mW4pL8sT".repeat(2)}`],
    ["spaced example-phrase", "Correct Horse Battery Staple 2024 k7Qx9vR2"],
    ["two-letter", "ab".repeat(20)],
  ])("refuses a %s secret in production, by name, for each secret", (_, value) => {
    for (const name of SECRET_NAMES) {
      const config = parseConfig({ ...production, [name]: value });
      expect(config.problems).toHaveLength(1);
      expect(config.problems[0]).toMatch(new RegExp(`^${name} `));
    }
  });

  it("refuses a secret equal to another one (JWT_SECRET the same as API_KEY)", () => {
    expect(parseConfig({ ...production, JWT_SECRET: strongSecrets.API_KEY }).problems).toEqual(["JWT_SECRET is the same value as API_KEY"]);
    expect(parseConfig({ ...production, PASSWORD_SALT: strongSecrets.JWT_SECRET }).problems).toEqual([
      "PASSWORD_SALT is the same value as JWT_SECRET",
    ]);
  });

  it("refuses example markers in any letter case", () => {
    const padding = "x".repeat(40);
    for (const marked of [
      "CHANGEME",
      "ChangeMe",
      "CHANGE-ME",
      "Dev-Only",
      "EXAMPLE",
      "Your-Secret",
      "PLACEHOLDER",
      "Change-In-Production",
    ]) {
      const config = parseConfig({ ...production, JWT_SECRET: `${marked}-${padding}` });
      expect(config.problems, marked).toEqual(["JWT_SECRET is an example value"]);
    }
  });

  it("refuses every secret of .dev.vars.example in production", () => {
    expect(Object.keys(exampleValues).sort()).toEqual([...SECRET_NAMES, ...UPSTREAM_SECRET_NAMES].sort());
    for (const [name, value] of Object.entries(exampleValues)) {
      expect(parseConfig({ ...production, [name]: value }).problems, name).toContainEqual(expect.stringMatching(new RegExp(`^${name} `)));
    }
  });

  it("runs with empty secrets outside production", () => {
    for (const ENVIRONMENT of ["development", "staging"]) {
      const config = parseConfig({ ENVIRONMENT });
      expect(config.problems).toEqual([]);
      expect(config.secrets.API_KEY).toBeUndefined();
    }
  });

  it("treats an unknown ENVIRONMENT as a problem and hides internals as production would", () => {
    const config = parseConfig({ ...strongSecrets, ENVIRONMENT: "prod" });
    expect(config.problems).toHaveLength(1);
    expect(config.isProduction).toBe(true);
  });

  it("reads ALLOWED_ORIGINS as a trimmed list", () => {
    expect(parseConfig({ ENVIRONMENT: "development", ALLOWED_ORIGINS: " https://a.example , https://b.example,," }).allowedOrigins).toEqual(
      ["https://a.example", "https://b.example"],
    );
  });
});

describe("configuration of the outside services", () => {
  const dev = { ENVIRONMENT: "development" };

  it("configures no self-hosted service by default (the public Audible catalogue is), and says which bindings each needs", () => {
    const { integrations, upstream } = parseConfig(dev);
    expect(integrations).toEqual({
      audiobookshelf: { configured: false, missing: ["ABS_URL", "ABS_TOKEN"] },
      qbittorrent: { configured: false, missing: ["QB_URL", "QB_API_KEY (or QB_USERNAME and QB_PASSWORD)"] },
      prowlarr: { configured: false, missing: ["PROWLARR_URL", "PROWLARR_API_KEY"] },
      google_books: { configured: false, missing: ["GOOGLE_BOOKS_API_KEY"] },
      audible: { configured: true, settings: { url: "https://api.audible.com" } },
    });
    expect(upstream).toEqual({
      timeoutMs: 10000,
      accessToken: undefined,
      qbMaxActive: 3,
      qbStallMinutes: 120,
      acquireMaxPerRun: 5,
      releaseLanguage: "ENG",
    });
  });

  it("reads every binding of the table", () => {
    const config = parseConfig({
      ...dev,
      ABS_URL: "https://abs.home.test/",
      ABS_TOKEN: "abs-token-1",
      ABS_LIBRARY_ID: "lib_1",
      QB_URL: "http://10.0.0.2:8080",
      QB_USERNAME: "admin",
      QB_PASSWORD: "pw-1",
      QB_SAVE_PATH: "/data/audiobooks",
      PROWLARR_URL: "http://10.0.0.3:9696/prowlarr/",
      PROWLARR_API_KEY: "prowlarr-1",
      GOOGLE_BOOKS_API_KEY: "gb-1",
      UPSTREAM_ACCESS_CLIENT_ID: "id.access",
      UPSTREAM_ACCESS_CLIENT_SECRET: "access-secret-1",
      UPSTREAM_TIMEOUT_MS: "2500",
      QB_MAX_ACTIVE: "5",
      QB_STALL_MINUTES: "60",
      ACQUIRE_MAX_PER_RUN: "2",
    });
    expect(config.problems).toEqual([]);
    expect(config.integrations).toEqual({
      audiobookshelf: { configured: true, settings: { url: "https://abs.home.test", token: "abs-token-1", libraryId: "lib_1" } },
      qbittorrent: {
        configured: true,
        settings: {
          url: "http://10.0.0.2:8080",
          apiKey: undefined,
          login: { username: "admin", password: "pw-1" },
          category: "audiobooks",
          savePath: "/data/audiobooks",
        },
      },
      prowlarr: { configured: true, settings: { url: "http://10.0.0.3:9696/prowlarr", apiKey: "prowlarr-1" } },
      google_books: { configured: true, settings: { url: "https://www.googleapis.com/books/v1", apiKey: "gb-1" } },
      audible: { configured: true, settings: { url: "https://api.audible.com" } },
    });
    expect(config.upstream).toEqual({
      timeoutMs: 2500,
      accessToken: { clientId: "id.access", clientSecret: "access-secret-1" },
      qbMaxActive: 5,
      qbStallMinutes: 60,
      acquireMaxPerRun: 2,
      releaseLanguage: "ENG",
    });
  });

  it("configures qBittorrent with an API key alone, and not with a password but no user name", () => {
    expect(parseConfig({ ...dev, QB_URL: "http://qb.test", QB_API_KEY: "qbt_abc" }).integrations.qbittorrent).toMatchObject({
      configured: true,
      settings: { apiKey: "qbt_abc", login: undefined },
    });
    expect(parseConfig({ ...dev, QB_URL: "http://qb.test", QB_PASSWORD: "pw" }).integrations.qbittorrent.configured).toBe(false);
  });

  it.each(["ABS_URL", "QB_URL", "PROWLARR_URL", "GOOGLE_BOOKS_URL", "AUDIBLE_URL"])(
    "refuses a malformed %s, naming the binding and never the value",
    (name) => {
      for (const value of ["not a url", "ftp://files.test", "abs.local:13378", "https://h.test/?token=hunter2", "https://user:pw@h.test"]) {
        const { problems } = parseConfig({ ...dev, [name]: value });
        expect(problems, value).toEqual([`${name} is not an http(s) base URL (no query, fragment or credentials)`]);
      }
    },
  );

  it.each(["UPSTREAM_TIMEOUT_MS", "QB_MAX_ACTIVE", "QB_STALL_MINUTES", "ACQUIRE_MAX_PER_RUN"])(
    "refuses a %s that is not a positive whole number",
    (name) => {
      for (const value of ["0", "-1", "1.5", "ten", "1e3"]) {
        expect(parseConfig({ ...dev, [name]: value }).problems, value).toEqual([`${name} must be a positive whole number`]);
      }
    },
  );

  it("refuses an ACQUIRE_MAX_PER_RUN past one call's cap (10 downloads, 30 Prowlarr searches)", () => {
    expect(parseConfig({ ...dev, ACQUIRE_MAX_PER_RUN: "10" }).upstream.acquireMaxPerRun).toBe(10);
    for (const value of ["11", "500", "999999999"]) {
      expect(parseConfig({ ...dev, ACQUIRE_MAX_PER_RUN: value }).problems, value).toEqual(["ACQUIRE_MAX_PER_RUN must be at most 10"]);
    }
  });

  it("reads RELEASE_LANGUAGE as MyAnonamouse's language code (English by default, any for no filter), refusing what is no language", () => {
    expect(parseConfig({ ...dev }).upstream.releaseLanguage).toBe("ENG");
    expect(parseConfig({ ...dev, RELEASE_LANGUAGE: "de" }).upstream.releaseLanguage).toBe("GER");
    expect(parseConfig({ ...dev, RELEASE_LANGUAGE: "French" }).upstream.releaseLanguage).toBe("FRE");
    expect(parseConfig({ ...dev, RELEASE_LANGUAGE: "spa" }).upstream.releaseLanguage).toBe("SPA");
    expect(parseConfig({ ...dev, RELEASE_LANGUAGE: "ANY" }).upstream.releaseLanguage).toBeNull();
    for (const value of ["e", "english please", "EN1", "[ENG]"]) {
      expect(parseConfig({ ...dev, RELEASE_LANGUAGE: value }).problems, value).toEqual([
        "RELEASE_LANGUAGE must be a language code such as ENG or GER, or any",
      ]);
    }
  });

  it("treats a key still at its example value as not set outside production", () => {
    const config = parseConfig({ ...dev, ABS_URL: "http://abs.test", ...exampleValues });
    expect(config.problems).toEqual([]);
    expect(config.integrations.audiobookshelf).toEqual({ configured: false, missing: ["ABS_TOKEN"] });
    expect(config.integrations.google_books.configured).toBe(false);
    expect(config.upstream.accessToken).toBeUndefined();
  });

  it("refuses example values of the upstream keys in production, and a half Access token", () => {
    for (const name of UPSTREAM_SECRET_NAMES) {
      expect(parseConfig({ ...production, [name]: exampleValues[name] }).problems, name).toContainEqual(`${name} is an example value`);
    }
    expect(parseConfig({ ...production, UPSTREAM_ACCESS_CLIENT_ID: "abc.access" }).problems).toEqual([
      "UPSTREAM_ACCESS_CLIENT_ID and UPSTREAM_ACCESS_CLIENT_SECRET must be set together",
    ]);
    // Upstream keys have their own formats: no length rule.
    expect(parseConfig({ ...production, GOOGLE_BOOKS_API_KEY: "AIzaShort" }).problems).toEqual([]);
  });

  it("answers 503 service_unavailable naming the bindings to set for a service that is not configured", () => {
    const config = parseConfig(dev);
    const thrown = (() => {
      try {
        requireService(config, "audiobookshelf");
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      status: 503,
      code: "service_unavailable",
      detail: expect.stringContaining("set ABS_URL and ABS_TOKEN"),
    });
    // Production names no binding.
    expect(() => requireService(parseConfig({ ...production }), "google_books")).toThrow(
      expect.objectContaining({ detail: "Google Books is not configured" }),
    );
  });

  it("stops every route but liveness on a malformed URL, naming the binding outside production", async () => {
    const res = await withEnv({ ABS_URL: "abs.local:13378" })("/api/info");
    expect(res.status).toBe(503);
    const body = await res.json<{ detail: string }>();
    expect(body).toMatchObject(errorShape(503, "configuration_error"));
    expect(body.detail).toContain("ABS_URL is not an http(s) base URL");
    expect(body.detail).not.toContain("abs.local");
  });
});

describe("production with a weak secret", () => {
  const weak = withEnv({ ...production, JWT_SECRET: "too-short" });

  it("answers 503 configuration_error on every route, naming no secret", async () => {
    for (const path of ["/api/info", "/", "/api/system/health", "/no/such/route"]) {
      const res = await weak(path, { auth: true });
      expect(res.status, path).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject(errorShape(503, "configuration_error"));
      for (const name of [...SECRET_NAMES, "too-short"]) expect(text, path).not.toContain(name);
      expect(JSON.parse(text)).not.toHaveProperty("context");
    }
  });

  it("still answers liveness, and fails readiness and health without naming the secret", async () => {
    expect((await weak("/health/live")).status).toBe(200);
    for (const path of ["/health/ready", "/health"]) {
      const res = await weak(path);
      expect(res.status, path).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text).checks.configuration.status).toBe("error");
      for (const name of SECRET_NAMES) expect(text, path).not.toContain(name);
    }
  });
});

describe("the source", () => {
  // Every file under src/, as text, bundled by Vite at build time.
  const sources = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });

  it("holds no secret value: neither the example file's, nor the test ones, nor a literal assigned to a secret name", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const known = [...Object.values(exampleValues), env.API_KEY, env.JWT_SECRET, env.PASSWORD_SALT];
    const assignment = /(api_?key|jwt_?secret|password_?salt|secret)\w*["' ]*[:=]\s*["'`][^"'`\s]{12,}/i;
    for (const [file, text] of Object.entries(sources)) {
      for (const value of known) expect(text.includes(value), `${file} contains a secret value`).toBe(false);
      expect(text, file).not.toMatch(assignment);
    }
  });
});
