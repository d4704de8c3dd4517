import { describe, expect, it } from "vitest";
import { call } from "../helpers";

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
