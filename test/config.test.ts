import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { parseConfig, SECRET_NAMES } from "../src/config";
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
  ])("refuses a %s secret in production, by name, for each secret", (_, value) => {
    for (const name of SECRET_NAMES) {
      const config = parseConfig({ ...production, [name]: value });
      expect(config.problems).toHaveLength(1);
      expect(config.problems[0]).toMatch(new RegExp(`^${name} `));
    }
  });

  it("refuses every secret of .dev.vars.example in production", () => {
    expect(Object.keys(exampleValues).sort()).toEqual([...SECRET_NAMES].sort());
    for (const [name, value] of Object.entries(exampleValues)) {
      expect(parseConfig({ ...production, [name]: value }).problems, name).toHaveLength(1);
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
    expect(parseConfig({ ENVIRONMENT: "development", ALLOWED_ORIGINS: " https://a.example , https://b.example,," }).allowedOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
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
