import { describe, expect, it } from "vitest";

// What an operator reads (the Markdown at the root, wrangler.toml) and what a maintainer reads
// (comments under src/ and scripts/) must point only at things inside the repository: a document
// that is not here cannot be followed, and a renamed file or heading leaves a dead pointer.
const documents = import.meta.glob<string>(["../../*.md", "../../wrangler.toml"], { query: "?raw", import: "default", eager: true });
const sources = import.meta.glob<string>(["../../src/**/*.ts", "../../scripts/**/*.js"], {
  query: "?raw",
  import: "default",
  eager: true,
});
const repositoryFiles = new Set(
  Object.keys(import.meta.glob(["../../**/*", "!../../node_modules/**", "!../../.wrangler/**", "!../../public/docs/vendor/**"])).map(
    (file) => file.replace(/^\.\.\/\.\.\//, ""),
  ),
);
const name = (file: string) => file.replace(/^\.\.\/\.\.\//, "");
const headers = import.meta.glob<string>(["../../public/_header?"], { query: "?raw", import: "default", eager: true });
const sourceAndTestFiles = new Set(
  Object.keys(import.meta.glob(["/test/**/*.ts", "/test/**/*.js", "/src/**/*.ts"])).map((file) => file.slice(1)),
);

/** Documents kept outside the repository, by the names they were cited under. */
const OUTSIDE = /\b(CONTRACT|INTEGRATIONS|STYLE|TOOLING)(\.md)?\b|original-backend|design (notes|documents?)|\/work\/shared/;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && line.match(/^#{1,6} (.+)$/);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe("references in the documents and comments", () => {
  it("name no document kept outside the repository", () => {
    const found = Object.entries({ ...documents, ...sources }).flatMap(([file, text]) =>
      text.split("\n").flatMap((line, i) => (OUTSIDE.test(line) ? [`${name(file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  it("link only to files that exist and headings that exist", () => {
    const markdown = Object.entries(documents).filter(([file]) => file.endsWith(".md"));
    const anchors = new Map(markdown.map(([file, text]) => [name(file), anchorsOf(text)]));
    const broken = markdown.flatMap(([file, text]) =>
      [...text.matchAll(/\]\(([^)\s]+)\)/g)].flatMap(([, target]) => {
        if (/^(https?:|mailto:)/.test(target as string)) return [];
        const [path, anchor] = (target as string).split("#") as [string, string | undefined];
        const targetFile = path === "" ? name(file) : path.replace(/^\.\//, "");
        if (!repositoryFiles.has(targetFile) && !repositoryFiles.has(`${targetFile}/`)) {
          const isFolder = [...repositoryFiles].some((f) => f.startsWith(`${targetFile.replace(/\/$/, "")}/`));
          if (!isFolder) return [`${name(file)}: ${target} (no such file)`];
        }
        if (anchor && anchors.has(targetFile) && !anchors.get(targetFile)?.has(anchor))
          return [`${name(file)}: ${target} (no such heading)`];
        return [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it("public/_headers names only files that exist (the test it keeps in step with)", () => {
    const named = Object.values(headers).flatMap((text) =>
      [...text.matchAll(/\b((?:src|test)\/[\w./-]*\w\.(?:ts|js))\b/g)].map((m) => m[1]),
    );
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((file) => !sourceAndTestFiles.has(file as string))).toEqual([]);
  });

  it("would notice a document outside the repository, and reads headings as GitHub anchors (the checks are not vacuous)", () => {
    expect(OUTSIDE.test("The contract it implements is `CONTRACT.md` in the design notes")).toBe(true);
    expect(OUTSIDE.test("see INTEGRATIONS in the design notes")).toBe(true);
    expect(anchorsOf("# Rate limiting\n## Changing limits (`RATE_LIMITS`)\n```\n# not a heading\n```\n## Tiers\n## Tiers")).toEqual(
      new Set(["rate-limiting", "changing-limits-rate_limits", "tiers", "tiers-1"]),
    );
  });
});
