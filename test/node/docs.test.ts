import { describe, expect, it } from "vitest";
import changelog from "../../CHANGELOG.md?raw";
import { version } from "../../package.json";
import rateLimiting from "../../RATE_LIMITING.md?raw";
import { currentTables, tierTables } from "../../scripts/lib/tier-table.js";
import { DEFAULT_LIMITS, FAIL_CLOSED_TIERS, TIERS } from "../../src/rate-limit/tiers";
import { ROUTE_POLICIES } from "../../src/route-policy";

const REGENERATE =
  "RATE_LIMITING.md's tier tables are out of date with src/route-policy.ts: run `npm run docs:tiers` and commit RATE_LIMITING.md";

/** The rows of the "Every route" table as the document states them: route → [tier, limit, role]. */
function documentedRoutes(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const section = rateLimiting.slice(rateLimiting.indexOf("### Every route"));
  for (const line of section.split("\n")) {
    const cells = line.match(/^\| `([A-Z]+ [^`]+)` \| `([a-z]+)` \| ([^|]+) \| ([^|]+) \|$/);
    if (cells) rows.set(cells[1] as string, [cells[2] as string, (cells[3] as string).trim(), (cells[4] as string).trim()]);
  }
  return rows;
}

describe("RATE_LIMITING.md's tier tables", () => {
  it("are what `npm run docs:tiers` writes from src/route-policy.ts", () => {
    const generated = tierTables({ policies: ROUTE_POLICIES, limits: DEFAULT_LIMITS, failClosed: [...FAIL_CLOSED_TIERS] });
    expect(currentTables(rateLimiting), REGENERATE).toBe(generated);
  });

  it("state every route's tier, its default limit and least role, and no route that does not exist", () => {
    const documented = documentedRoutes();
    expect([...documented.keys()].sort(), REGENERATE).toEqual(Object.keys(ROUTE_POLICIES).sort());
    for (const [route, policy] of Object.entries(ROUTE_POLICIES)) {
      const [tier, limit, role] = documented.get(route) as string[];
      expect({ route, tier, limit }, REGENERATE).toEqual({ route, tier: policy.tier, limit: DEFAULT_LIMITS[policy.tier] });
      expect(role?.startsWith(policy.access), `${route}: ${REGENERATE}`).toBe(true);
    }
  });

  it("name every tier once, with what it does when the limiter is down", () => {
    for (const tier of TIERS) {
      const rows = rateLimiting.split("\n").filter((line) => line.startsWith(`| \`${tier}\` | ${DEFAULT_LIMITS[tier]} | `));
      expect(rows, `${tier}: ${REGENERATE}`).toHaveLength(1);
      expect(rows[0], REGENERATE).toContain(FAIL_CLOSED_TIERS.has(tier) ? "| refuses (503) |" : "| admits, logs a warning |");
    }
  });
});

describe("CHANGELOG.md", () => {
  const versions = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$/gm)].map((m) => ({
    version: m[1] as string,
    date: m[2] as string,
  }));
  const order = (v: string) => v.split(".").map(Number) as [number, number, number];

  it("has an Unreleased section above its newest version, which is package.json's", () => {
    expect(changelog.indexOf("## [Unreleased]")).toBeGreaterThan(-1);
    expect(changelog.indexOf("## [Unreleased]")).toBeLessThan(changelog.indexOf(`## [${versions[0]?.version}]`));
    expect(versions[0]?.version, "package.json's version has no CHANGELOG.md section: cut the version as CHANGELOG.md says").toBe(version);
  });

  it("lists versions newest first, each once, dated in order", () => {
    for (let i = 1; i < versions.length; i++) {
      const [newer, older] = [versions[i - 1], versions[i]] as [(typeof versions)[0], (typeof versions)[0]];
      const [a, b] = [order(newer.version), order(older.version)];
      expect(a[0] * 1e6 + a[1] * 1e3 + a[2], `${newer.version} above ${older.version}`).toBeGreaterThan(b[0] * 1e6 + b[1] * 1e3 + b[2]);
      expect(newer.date >= older.date, `${newer.version} dated before ${older.version}`).toBe(true);
    }
    expect(versions.length).toBeGreaterThan(0);
  });
});
