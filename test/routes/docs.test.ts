import { describe, expect, it } from "vitest";
import { call, uniqueIp, withEnv } from "../helpers";

/** The policy's directives by name, e.g. `script-src` → ["'self'"]. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  );
}

/** The `src` / `href` of every script and stylesheet tag, and the text of any inline script. */
function references(html: string) {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attrs, body]) => ({
    src: /\bsrc="([^"]*)"/.exec(attrs!)?.[1],
    body: body!.trim(),
  }));
  const links = [...html.matchAll(/<link\b[^>]*\bhref="([^"]*)"/g)].map(([, href]) => href!);
  return { scripts, links };
}

describe("GET /docs", () => {
  it("loads its viewer only from this Worker: every script a same-origin file, no inline code", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    const { scripts, links } = references(await res.text());
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const script of scripts) {
      expect(script.src, "a script without src is inline code").toMatch(/^\/(?!\/)/);
      expect(script.body).toBe("");
    }
    for (const href of links) expect(href).toMatch(/^(\/(?!\/)|data:)/);
    // Served by Workers static assets, which tests in workerd do not reach: `npm run test:browser`
    // loads them (test/browser/docs.test.js).
    expect(scripts.map((s) => s.src)).toEqual(["/docs/vendor/swagger-ui-bundle.js", "/docs/init.js"]);
  });

  it("carries a Content-Security-Policy that allows no other origin, no inline script and no eval", async () => {
    const res = await call("/docs");
    const policy = directives(res.headers.get("Content-Security-Policy") ?? "");
    expect(policy.get("default-src")).toEqual(["'none'"]);
    expect(policy.get("script-src")).toEqual(["'self'"]);
    expect(policy.get("style-src")).toEqual(["'self'"]);
    expect(policy.get("connect-src")).toEqual(["'self'"]);
    expect(policy.get("img-src")).toEqual(["'self'", "data:"]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    for (const [name, sources] of policy) {
      for (const source of sources) expect(source, name).toMatch(/^('self'|'none'|data:)$/);
    }
  });
});

describe("the reference's budget", () => {
  // The default limits (RATE_LIMITS empty): public 10 a minute, docs 60 (RATE_LIMITING.md, "Tiers").
  const defaults = withEnv({ RATE_LIMITS: "" });

  it("is its own: reloading /docs and its document spends nothing of the public tier", async () => {
    const ip = uniqueIp();
    for (let load = 1; load <= 12; load++) {
      for (const path of ["/docs", "/openapi.json"]) {
        const res = await defaults(path, { ip });
        expect(res.status, `${path}, load ${load}`).toBe(200);
        expect(res.headers.get("RateLimit-Policy")).toBe('"docs";q=60;w=60');
      }
    }
    // 24 reference requests, more than the public tier's 10: its budget is whole.
    const info = await defaults("/api/info", { ip });
    expect(info.status).toBe(200);
    expect(info.headers.get("RateLimit")).toMatch(/^"public";r=9;t=\d+$/);
  });

  it("is still a budget: the 61st request in a minute is refused, and logins keep theirs", async () => {
    const ip = uniqueIp();
    for (let i = 1; i <= 60; i++) expect((await defaults("/openapi.json", { ip })).status, `request ${i}`).toBe(200);
    const refused = await defaults("/docs", { ip });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("RateLimit-Policy")).toBe('"docs";q=60;w=60');
    expect((await defaults("/api/info", { ip })).status).toBe(200);
  });

  it("lets a browser keep the page and the document for five minutes, so a reload asks nothing", async () => {
    for (const path of ["/docs", "/openapi.json"]) {
      expect((await call(path)).headers.get("Cache-Control"), path).toBe("public, max-age=300");
    }
  });

  it("is stated in the document: both routes on the docs tier", async () => {
    const document = (await (await call("/openapi.json")).json()) as { paths: Record<string, { get: Record<string, unknown> }> };
    for (const path of ["/docs", "/openapi.json"]) {
      expect(document.paths[path]?.get).toMatchObject({ "x-rate-limit-tier": "docs", "x-rate-limit": "60/minute" });
    }
  });
});
