import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config";
import { audible, cleanSequence } from "../../src/integrations/audible";
import { UpstreamError } from "../../src/integrations/http";
import { AUDIBLE_URL, CATALOGUE_BOOKS, CATALOGUE_SERIES, fakeAudible, SANDERSON, STORMLIGHT } from "./fake-audible";
import { configWith } from "./fake-qbittorrent";
import { fakeUpstream, json } from "./fake-upstream";

afterEach(() => vi.restoreAllMocks());

const config = () => configWith({ AUDIBLE_URL });

describe("Audible configuration", () => {
  it("is configured by default on the public catalogue, and another region by its host", () => {
    expect(parseConfig({ ENVIRONMENT: "development" }).integrations.audible).toEqual({
      configured: true,
      settings: { url: "https://api.audible.com" },
    });
    expect(parseConfig({ ENVIRONMENT: "development", AUDIBLE_URL: "https://api.audible.co.uk/" }).integrations.audible).toEqual({
      configured: true,
      settings: { url: "https://api.audible.co.uk" },
    });
  });

  it("refuses a malformed AUDIBLE_URL, naming the binding and never the value", () => {
    expect(parseConfig({ ENVIRONMENT: "development", AUDIBLE_URL: "api.audible.com/?k=1" }).problems).toEqual([
      "AUDIBLE_URL is not an http(s) base URL (no query, fragment or credentials)",
    ]);
  });
});

describe("Audible sequences", () => {
  it.each([
    ["1", "1"],
    ["1.5", "1.5"],
    ["Book 1", "1"],
    ["2, Dramatized Adaptation", "2"],
    ["03", "3"],
    [".5", "0.5"],
    ["Prologue", null],
    ["", null],
    [null, null],
  ])("cleans %j to %j as Audiobookshelf does", (raw, clean) => {
    expect(cleanSequence(raw)).toBe(clean);
  });
});

describe("Audible catalogue client", () => {
  it("reads a book's series through its ASIN, with the public catalogue's query and no credential", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const book = await audible(config()).product("B00DA6YEKS");
    expect(book).toMatchObject({
      asin: "B00DA6YEKS",
      title: "Words of Radiance",
      authors: [SANDERSON],
      series: [{ asin: STORMLIGHT.asin, title: STORMLIGHT.title, sequence: "2" }],
    });
    const call = fake.calls[0]!;
    expect(call.url.origin + call.url.pathname).toBe(`${AUDIBLE_URL}/1.0/catalog/products/B00DA6YEKS`);
    expect(call.url.searchParams.get("response_groups")).toContain("series");
    expect(call.headers.get("Authorization")).toBeNull();
  });

  it("answers null for an ASIN Audible does not know: its 200 stub without a title, or a 404", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const client = audible(config());
    expect(await client.product("B000000000")).toBeNull();
    // The stub, as the live API answers it (test/integrations/fake-audible.ts).
    expect(fake.calls).toHaveLength(1);
    expect(await client.seriesMembers("B0NOSERIES")).toBeNull();
    expect(await client.productsByAsin(["B003ZWFO7E", "B000000000"])).toMatchObject([{ asin: "B003ZWFO7E", title: "The Way of Kings" }]);
    vi.restoreAllMocks();
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES, { unknownAsin: "404" });
    expect(await audible(config()).product("B000000000")).toBeNull();
    expect(await audible(config()).seriesMembers("B0NOSERIES")).toBeNull();
  });

  it("answers an unknown ASIN as the live API does: 200, three fields, no title", async () => {
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const res = await fetch(`${AUDIBLE_URL}/1.0/catalog/products/B0DFKPXBWQ?response_groups=series`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      product: { asin: "B0DFKPXBWQ", asset_details: [], is_vvab: false },
      response_groups: ["always-returned"],
    });
  });

  it("finds a book by title and author when there is no ASIN", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const found = await audible(config()).search("Oathbringer", SANDERSON);
    expect(found.map((b) => b.title)).toEqual(["Oathbringer"]);
    expect(Object.fromEntries(fake.calls[0]!.url.searchParams)).toMatchObject({
      title: "Oathbringer",
      author: SANDERSON,
      num_results: "10",
      products_sort_by: "Relevance",
    });
  });

  it("reads a series' members in order, sequences cleaned, one edition per position", async () => {
    fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const members = await audible(config()).seriesMembers(STORMLIGHT.asin);
    expect(members).toEqual([
      { asin: "B003ZWFO7E", sequence: "1" },
      { asin: "B00DA6YEKS", sequence: "2" },
      { asin: "B076PNXMW2", sequence: "2.5" },
      { asin: "B0722XQ8GB", sequence: "3" },
      { asin: "B08HWFLGZX", sequence: "4" },
      { asin: "B0CWINDTRU", sequence: "5" },
    ]);
  });

  it("searches free words as a person's search box does, asking Audible for the most relevant first", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const found = await audible(config()).keywords("sanderson oathbringer");
    expect(found.map((b) => b.title)).toEqual(["Oathbringer"]);
    expect(Object.fromEntries(fake.calls[0]!.url.searchParams)).toMatchObject({
      keywords: "sanderson oathbringer",
      num_results: "10",
      products_sort_by: "Relevance",
    });
  });

  it("keeps the edition first in Audible's sort order at a position, whatever order the list comes in", async () => {
    // A re-recording listed before the original, each with the plain number and its own `sort`;
    // then a dramatized edition (not the plain number) ahead of the plain one.
    const child = (asin: string, sequence: string, sort: string) => ({
      asin,
      relationship_to_product: "child",
      relationship_type: "series",
      sequence,
      sort,
    });
    const relationships = [
      child("B0RERECORD", "1", "2"),
      child("B0ORIGINAL", "1", "1"),
      child("B0DRAMA002", "2, Dramatized Adaptation", "3"),
      child("B0SECOND02", "2", "4"),
    ];
    fakeUpstream(() => json({ product: { asin: "B0SERIES01", title: "Saga", relationships } }));
    expect(await audible(config()).seriesMembers("B0SERIES01")).toEqual([
      { asin: "B0ORIGINAL", sequence: "1" },
      { asin: "B0SECOND02", sequence: "2" },
    ]);
  });

  it("reads several books' titles in one call, and an author's books newest first", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES);
    const client = audible(config());
    const titles = await client.productsByAsin(["B0722XQ8GB", "B0CWINDTRU"]);
    expect(titles.map((b) => [b.title, b.releaseDate])).toEqual([
      ["Oathbringer", "2014-03-04"],
      ["Wind and Truth", "2024-12-06"],
    ]);
    const newest = await client.byAuthor(SANDERSON);
    expect(newest[0]).toMatchObject({ title: "Isles of the Emberdark", releaseDate: "2027-03-02" });
    expect(fake.calls[1]!.url.searchParams.get("products_sort_by")).toBe("-ReleaseDate");
    expect(client.calls).toBe(2);
  });

  it("stops at a 429 with one attempt: a 502 naming Audible and the status, never retried", async () => {
    const fake = fakeAudible(CATALOGUE_BOOKS, CATALOGUE_SERIES, { rateLimitFrom: 1 });
    const error = await audible(config())
      .product("B00DA6YEKS")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ status: 502, code: "external_api_error", upstreamStatus: 429 });
    expect((error as UpstreamError).detail).toMatch(/^Audible answered 429 to GET \/1\.0\/catalog\/products\/B00DA6YEKS/);
    expect(fake.calls).toHaveLength(1);
  });

  it("takes an answer of the wrong shape as an upstream error, not a crash", async () => {
    fakeUpstream(() => json({ products: "none" }));
    await expect(audible(config()).search("Dune", null)).rejects.toMatchObject({ failure: "shape" });
  });
});

describe("Audible answers as hostile as any upstream's (issue 23)", () => {
  const dirty = (text: string) => `${text}\u0000\u001b[2J\u0007`;

  it("cleans and clips every text, reads a bounded list, and leaves out a product it cannot trust", async () => {
    const products = [
      {
        asin: "B0CLEAN001",
        title: dirty(`Long ${"x".repeat(5_000)}`),
        subtitle: dirty("Sub"),
        authors: [{ name: dirty("Jane\tAuthor") }, ...Array.from({ length: 100 }, (_, i) => ({ name: `A${i}` }))],
        series: [{ asin: "B0SERIES01", title: dirty("Saga"), sequence: dirty("Book 3") }],
        release_date: "2024-01-02\u0000",
        format_type: dirty("unabridged"),
      },
      { asin: "x".repeat(200_000), title: "An id no column holds" },
      { asin: "B0\u0000NUL", title: "An id with a NUL" },
      { asin: "B0BADDATE1", title: "Date", release_date: "not a date; DROP TABLE books" },
      ...Array.from({ length: 10_000 }, (_, i) => ({ asin: `B0MANY${i}`, title: `Many ${i}` })),
    ];
    fakeUpstream(() => json({ products, total_results: 1e9 }));
    const found = await audible(config()).search("Long", null);
    expect(found.length).toBeLessThanOrEqual(50);
    expect(found.map((p) => p.asin)).not.toContain("x".repeat(200_000));
    expect(found.some((p) => p.asin.includes("\u0000"))).toBe(false);
    const first = found[0]!;
    expect(first.title).toHaveLength(500);
    expect(first.title).toBe(`Long ${"x".repeat(495)}`);
    expect(first.subtitle).toBe("Sub[2J");
    expect(first.authors).toHaveLength(20);
    expect(first.authors[0]).toBe("Jane Author[2J");
    expect(first.series).toEqual([{ asin: "B0SERIES01", title: "Saga[2J", sequence: "3" }]);
    expect(first.releaseDate).toBe("2024-01-02");
    expect(first.formatType).toBe("unabridged[2J");
    expect(found.find((p) => p.asin === "B0BADDATE1")?.releaseDate).toBeNull();
  });

  it("reads a series' members within bounds: no position past 10,000, no member with an id it cannot store", async () => {
    const relationships = [
      { asin: "B0MEMBER01", relationship_to_product: "child", relationship_type: "series", sequence: "1", sort: "1" },
      { asin: "B0MEMBER02", relationship_to_product: "child", relationship_type: "series", sequence: "1e300", sort: "2" },
      { asin: "B0MEMBER03", relationship_to_product: "child", relationship_type: "series", sequence: "99999999", sort: "3" },
      { asin: "y".repeat(5_000), relationship_to_product: "child", relationship_type: "series", sequence: "4", sort: "4" },
      { asin: "B0MEMBER05", relationship_to_product: "child\u0000", relationship_type: "series", sequence: "5\u001b", sort: 5 },
      ...Array.from({ length: 5_000 }, (_, i) => ({
        asin: `B0M${i}`,
        relationship_to_product: "child",
        relationship_type: "series",
        sequence: String(i + 6),
        sort: i + 6,
      })),
    ];
    fakeUpstream(() => json({ product: { asin: "B0SERIES01", title: dirty("Saga"), relationships } }));
    const members = (await audible(config()).seriesMembers("B0SERIES01"))!;
    expect(members.length).toBeLessThanOrEqual(1_000);
    expect(members.slice(0, 2)).toEqual([
      { asin: "B0MEMBER01", sequence: "1" },
      { asin: "B0MEMBER05", sequence: "5" },
    ]);
    expect(Math.max(...members.map((m) => Number(m.sequence)))).toBeLessThanOrEqual(10_000);
    expect(members.every((m) => m.asin.length <= 20)).toBe(true);
  });
});
