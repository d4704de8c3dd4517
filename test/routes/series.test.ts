import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { books, missingBooks } from "../../src/db/schema";
import { bearer, createAuthor, createBook, createSeries, createUser, loginAs, unique } from "../fixtures";
import { call, errorShape } from "../helpers";
import { api, ISO, insertBooks, storedCounts } from "../library";

/** The full answer for one series, as every route maps it. */
function seriesShape(fields: Record<string, unknown> = {}) {
  // A total given through the API is set by hand, which always wins over the catalogue's.
  const byHand = typeof fields.total_books_in_series === "number";
  return {
    id: expect.any(Number),
    name: expect.any(String),
    author: null,
    goodreads_id: null,
    hardcover_id: null,
    total_books_in_series: null,
    total_source: byHand ? "hand" : null,
    total_checked_at: byHand ? ISO : null,
    books_owned: 0,
    books_missing: 0,
    completion_percentage: 0,
    completion_status: "incomplete",
    last_completion_check: ISO,
    date_created: ISO,
    date_updated: ISO,
    ...fields,
  };
}

const BAD_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999"];

async function expect422(path: string, options: Parameters<typeof api>[1], field?: string) {
  const { status, body } = await api(path, options);
  expect(status, JSON.stringify(body)).toBe(422);
  expect(body).toMatchObject(errorShape(422, "validation_error"));
  if (field) expect(body.errors.map((e: { path: string }) => e.path)).toContain(field);
}

describe("POST /api/series", () => {
  it("creates a series (201) with every field, the name trimmed, and its completion computed", async () => {
    const name = unique("Dune");
    const { status, body } = await api("/api/series", {
      method: "POST",
      json: { name: `  ${name} `, author: " Frank Herbert ", goodreads_id: "gr-1", hardcover_id: "hc-1", total_books_in_series: 6 },
    });
    expect(status).toBe(201);
    expect(body).toEqual({ success: true, data: expect.any(Object), error: null, timestamp: ISO });
    expect(body.data).toEqual({
      series_id: body.data.id,
      ...seriesShape({
        name,
        author: "Frank Herbert",
        goodreads_id: "gr-1",
        hardcover_id: "hc-1",
        total_books_in_series: 6,
        books_missing: 6,
      }),
    });
  });

  it("accepts the original's `total_books` for the total", async () => {
    const created = await createSeries({ total_books: 4 });
    expect(created).toMatchObject({ total_books_in_series: 4, books_missing: 4 });
  });

  it("counts the active books that already carry its name, trimmed and case-insensitively", async () => {
    const name = unique("Foundation");
    await insertBooks(2, { series: name });
    await insertBooks(1, { series: name.toUpperCase() });
    await insertBooks(1, { series: name, status: "archived" });
    await insertBooks(1, { series: name, status: "duplicate" });
    const created = await createSeries({ name: ` ${name.toLowerCase()} `, total_books: 4 });
    expect(created).toMatchObject({ books_owned: 3, books_missing: 1, completion_percentage: 75, completion_status: "partial" });
  });

  it("answers 409 duplicate_resource for a name that differs only in case or spaces", async () => {
    const name = unique("Dune");
    await createSeries({ name });
    for (const variant of [name, name.toUpperCase(), `  ${name.toLowerCase()}  `]) {
      const { status, body } = await api("/api/series", { method: "POST", json: { name: variant } });
      expect(status, variant).toBe(409);
      expect(body).toMatchObject({ ...errorShape(409, "duplicate_resource"), detail: `Series '${name}' already exists` });
    }
  });

  it("answers 409 for names that only look different (issue 23): invisible, wide or Cyrillic characters, doubled spaces", async () => {
    const name = `Book of ${unique("Dune")}`;
    await createSeries({ name });
    const fullwidth = (text: string) => text.replace(/[A-Za-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
    const variants = {
      "no-break space": name.replace(" ", "\u00a0"),
      "zero-width space": name.replace("of", "o\u200bf"),
      "Cyrillic о": name.replace("of", "\u043ef"),
      "fullwidth letters": name.replace("Book", fullwidth("Book")),
      "double space": name.replace(" of ", "  of "),
      "Greek ο and a soft hyphen": name.replace("Book", "Bο\u00adok"),
    };
    for (const [what, variant] of Object.entries(variants)) {
      const { status, body } = await api("/api/series", { method: "POST", json: { name: variant } });
      expect(status, what).toBe(409);
      expect(body).toMatchObject({ ...errorShape(409, "duplicate_resource"), detail: `Series '${name}' already exists` });
    }
    // Renaming another series to a look-alike is the same 409; the name itself is kept as sent.
    const other = await createSeries({ name: `Пушкин ${unique("x")}` });
    expect(other.name).toMatch(/^Пушкин /);
    expect((await api(`/api/series/${other.series_id}`, { method: "PUT", json: { name: variants["Cyrillic о"] } })).status).toBe(409);
  });

  it("answers 409, never 500, when the same new name is created concurrently (the unique index decides)", async () => {
    const name = unique("race");
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => api("/api/series", { method: "POST", json: { name: i % 2 ? name.toUpperCase() : name } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((a) => a.status === 409)) expect(a.body).toMatchObject(errorShape(409, "duplicate_resource"));
  });

  it("answers 422 for each kind of bad body", async () => {
    const cases: [unknown, string][] = [
      [{}, "body.name"], // required
      [{ name: "   " }, "body.name"], // empty once trimmed
      [{ name: 5 }, "body.name"], // wrong type
      [{ name: "x".repeat(501) }, "body.name"], // too long
      [{ name: unique(), author: "a".repeat(501) }, "body.author"],
      [{ name: unique(), goodreads_id: "g".repeat(256) }, "body.goodreads_id"],
      [{ name: unique(), hardcover_id: 7 }, "body.hardcover_id"],
      [{ name: unique(), total_books: 0 }, "body.total_books"], // out of bounds
      [{ name: unique(), total_books: 100_001 }, "body.total_books"],
      [{ name: unique(), total_books_in_series: 2.5 }, "body.total_books_in_series"],
      [{ name: unique(), total_books_in_series: "4" }, "body.total_books_in_series"],
      [{ name: unique(), total_books: 4, total_books_in_series: 4 }, "body.total_books"], // both names
      [{ name: unique(), colour: "blue" }, "body"], // unknown field
      [[{ name: unique() }], "body"], // not an object
    ];
    for (const [json, field] of cases) await expect422("/api/series", { method: "POST", json }, field);
  });
});

describe("completion numbers", () => {
  async function seriesWith(owned: number, total?: number) {
    const name = unique("numbers");
    await insertBooks(owned, { series: name });
    return createSeries({ name, ...(total === undefined ? {} : { total_books: total }) });
  }

  it("3 of 4 active books is 75, partial", async () => {
    expect(await seriesWith(3, 4)).toMatchObject({
      books_owned: 3,
      books_missing: 1,
      completion_percentage: 75,
      completion_status: "partial",
    });
  });

  it("4 of 4 is 100, complete", async () => {
    expect(await seriesWith(4, 4)).toMatchObject({
      books_owned: 4,
      books_missing: 0,
      completion_percentage: 100,
      completion_status: "complete",
    });
  });

  it("5 of 4 is 125 and stays partial, as in the original (only exactly 100 is complete)", async () => {
    expect(await seriesWith(5, 4)).toMatchObject({
      books_owned: 5,
      books_missing: 0,
      completion_percentage: 125,
      completion_status: "partial",
    });
  });

  it("1 of 4 is 25, incomplete", async () => {
    expect(await seriesWith(1, 4)).toMatchObject({
      books_owned: 1,
      books_missing: 3,
      completion_percentage: 25,
      completion_status: "incomplete",
    });
  });

  it("without a known total: 0 percent, nothing missing, incomplete", async () => {
    expect(await seriesWith(3)).toMatchObject({
      books_owned: 3,
      books_missing: 0,
      completion_percentage: 0,
      completion_status: "incomplete",
    });
  });

  it("floors the percentage: 2 of 3 is 66", async () => {
    expect(await seriesWith(2, 3)).toMatchObject({ completion_percentage: 66, completion_status: "partial" });
  });
});

describe("GET /api/series", () => {
  it("lists series with the page shape, most complete first, then by name", async () => {
    await seriesWithBooks(4, 4);
    await seriesWithBooks(1, 4);
    const { status, body } = await api("/api/series?limit=500");
    expect(status).toBe(200);
    expect(body.data).toEqual({
      series: expect.any(Array),
      total: expect.any(Number),
      page_info: { limit: 500, offset: 0, has_more: false },
    });
    expect(Object.keys(body.data.series[0]).sort()).toEqual([...Object.keys(seriesShape()), "missing_positions"].sort());
    const order = body.data.series.map((s: { completion_percentage: number; name: string }) => [s.completion_percentage, s.name]);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    expect(order).toEqual(sorted);
  });

  it("pages with limit and offset", async () => {
    await createSeries();
    await createSeries();
    const all = (await api("/api/series?limit=500")).body.data;
    const { body } = await api("/api/series?limit=1&offset=1");
    expect(body.data.series).toEqual([all.series[1]]);
    expect(body.data.total).toBe(all.total);
    expect(body.data.page_info).toEqual({ limit: 1, offset: 1, has_more: all.total > 2 });
  });

  it("filters by completion_status in SQL, so total counts every match, not the page", async () => {
    await seriesWithBooks(4, 4);
    await seriesWithBooks(2, 2);
    const { body } = await api("/api/series?completion_status=complete&limit=1");
    expect(body.data.series).toHaveLength(1);
    expect(body.data.series[0].completion_status).toBe("complete");
    const everyComplete = (await api("/api/series?completion_status=complete&limit=500")).body.data;
    expect(everyComplete.series.every((s: { completion_status: string }) => s.completion_status === "complete")).toBe(true);
    expect(body.data.total).toBe(everyComplete.series.length);
    expect(body.data.total).toBeGreaterThanOrEqual(2);
    expect(body.data.page_info.has_more).toBe(true);
  });

  it("computes each series' missing positions on every read, before any gap analysis", async () => {
    const name = unique("holes");
    const created = await createSeries({ name, total_books_in_series: 6 });
    for (const n of ["1", "03", "3.0", "4.5", "Book 5", "9"]) await createBook({ series: name, series_number: n });
    const unknown = await createSeries({ name: unique("no-total") });
    const { body } = await api("/api/series?limit=500");
    const byId = (id: number) => body.data.series.find((s: { id: number }) => s.id === id);
    // 1 and 3 are held (3 twice); 4.5 and "Book 5" hold no whole position; 9 is past the total.
    expect(byId(created.series_id).missing_positions).toEqual(["2", "4", "5", "6"]);
    expect(byId(unknown.series_id).missing_positions).toBeNull();
    expect((await api(`/api/series/${created.series_id}`)).body.data.missing_positions).toEqual(["2", "4", "5", "6"]);
    // A book whose files are gone holds nothing (as completion counts it); a further series of a book holds its position.
    const db = primaryDatabase(env);
    const fourth = await createBook({ series: name, series_number: "4" });
    await db.update(books).set({ filesMissing: true }).where(eq(books.id, fourth.book_id));
    await createBook({ series: unique("Other"), series_number: "1" }).then((b) =>
      db
        .update(books)
        .set({ additionalSeries: [{ name, sequence: "2" }] })
        .where(eq(books.id, b.book_id)),
    );
    expect((await api(`/api/series/${created.series_id}`)).body.data.missing_positions).toEqual(["4", "5", "6"]);
    const gaps = await primaryDatabase(env).select().from(missingBooks).where(eq(missingBooks.seriesId, created.series_id));
    expect(gaps).toEqual([]);
  });

  it("lists at most 200 missing positions of a series (books_missing counts them all)", async () => {
    const created = await createSeries({ name: unique("huge"), total_books_in_series: 100_000 });
    const { body } = await api(`/api/series/${created.series_id}`);
    expect(body.data.missing_positions).toHaveLength(200);
    expect(body.data.missing_positions.at(-1)).toBe("200");
    expect(body.data.books_missing).toBe(100_000);
  });

  it("answers 422 for a bad limit, offset or status", async () => {
    for (const query of ["limit=0", "limit=501", "limit=ten", "offset=-1", "completion_status=done"]) {
      await expect422(`/api/series?${query}`, {}, `query.${query.split("=")[0]}`);
    }
  });
});

async function seriesWithBooks(owned: number, total: number | null, bookFields: Record<string, unknown> = {}) {
  const name = unique("series");
  await insertBooks(owned, { series: name, ...bookFields });
  const created = await createSeries({ name, total_books_in_series: total });
  return { id: created.series_id, name };
}

describe("GET /api/series/:id", () => {
  it("answers the series with its active books, in series order", async () => {
    const name = unique("ordered");
    const created = await createSeries({ name, total_books: 3 });
    const [ten] = await insertBooks(1, { series: name, seriesNumber: "10", title: "Ten", publishedYear: 2010 });
    const [two] = await insertBooks(1, { series: name, seriesNumber: "2", title: "Two", publishedYear: 2002 });
    await insertBooks(1, { series: name, seriesNumber: "3", status: "archived" });
    const [one] = await insertBooks(1, { series: name.toUpperCase(), seriesNumber: "1", title: "One", publishedYear: null });
    const { status, body } = await api(`/api/series/${created.series_id}`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      // stored completion, from before these books were written behind the routes' back
      ...seriesShape({ id: created.series_id, name, total_books_in_series: 3, books_missing: 3 }),
      // computed now: "1" and "2" are held (any case of the name), "3" only by an archived book
      missing_positions: ["3"],
      books: [
        { id: one, title: "One", series_number: "1", published_year: null, status: "active" },
        { id: two, title: "Two", series_number: "2", published_year: 2002, status: "active" },
        { id: ten, title: "Ten", series_number: "10", published_year: 2010, status: "active" },
      ],
    });
  });

  it("answers 404 not_found for a missing id, with or without a trailing slash", async () => {
    for (const path of ["/api/series/999999999", "/api/series/999999999/"]) {
      const { status, body } = await api(path);
      expect(status).toBe(404);
      expect(body).toMatchObject({ ...errorShape(404, "not_found"), detail: "Series not found: 999999999" });
    }
  });

  it("answers 422 for an id that is not a positive integer", async () => {
    for (const id of BAD_IDS) await expect422(`/api/series/${id}`, {}, "path.id");
  });
});

describe("PUT /api/series/:id", () => {
  it("changes the given fields, answers changes_made, and recomputes on a total change", async () => {
    const s = await seriesWithBooks(3, null);
    const { status, body } = await api(`/api/series/${s.id}`, {
      method: "PUT",
      json: { author: "Someone", total_books_in_series: 4, goodreads_id: null },
    });
    expect(status).toBe(200);
    expect(body.data).toEqual({
      series_id: s.id,
      changes_made: { author: { old: null, new: "Someone" }, total_books_in_series: { old: null, new: 4 } },
      ...seriesShape({
        id: s.id,
        name: s.name,
        author: "Someone",
        total_books_in_series: 4,
        books_owned: 3,
        books_missing: 1,
        completion_percentage: 75,
        completion_status: "partial",
      }),
    });
  });

  it("accepts `total_books` too, and clears a field with null", async () => {
    const s = await seriesWithBooks(1, 2);
    const { body } = await api(`/api/series/${s.id}`, { method: "PUT", json: { total_books: null } });
    expect(body.data.changes_made).toEqual({ total_books_in_series: { old: 2, new: null } });
    expect(body.data).toMatchObject({
      total_books_in_series: null,
      completion_percentage: 0,
      books_missing: 0,
      completion_status: "incomplete",
    });
  });

  it("answers an empty changes_made when nothing differs, and writes nothing", async () => {
    const s = await seriesWithBooks(0, 5);
    const before = (await api(`/api/series/${s.id}`)).body.data;
    const { status, body } = await api(`/api/series/${s.id}`, { method: "PUT", json: { name: s.name, total_books_in_series: 5 } });
    expect(status).toBe(200);
    expect(body.data.changes_made).toEqual({});
    expect(body.data.date_updated).toBe(before.date_updated);
  });

  it("may change only the case of its own name", async () => {
    const s = await seriesWithBooks(1, 1);
    const { status, body } = await api(`/api/series/${s.id}`, { method: "PUT", json: { name: s.name.toUpperCase() } });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ name: s.name.toUpperCase(), books_owned: 1, completion_status: "complete" });
  });

  it("answers 409 duplicate_resource when renamed to another series' name in any case or spacing", async () => {
    const taken = await createSeries();
    const s = await createSeries();
    for (const name of [String(taken.name).toUpperCase(), ` ${taken.name} `]) {
      const { status, body } = await api(`/api/series/${s.series_id}`, { method: "PUT", json: { name } });
      expect(status).toBe(409);
      expect(body).toMatchObject(errorShape(409, "duplicate_resource"));
    }
  });

  it("answers 404 for a missing id and 422 for bad input", async () => {
    const missing = await api("/api/series/999999999", { method: "PUT", json: { author: "x" } });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject(errorShape(404, "not_found"));
    const s = await createSeries();
    const cases: [unknown, string][] = [
      [{}, "body"], // no field
      [{ name: "" }, "body.name"],
      [{ name: null }, "body.name"],
      [{ total_books_in_series: 0 }, "body.total_books_in_series"],
      [{ total_books_in_series: true }, "body.total_books_in_series"],
      [{ author: "a".repeat(501) }, "body.author"],
      [{ total_books: 3, total_books_in_series: 3 }, "body.total_books"],
      [{ books_owned: 99 }, "body"], // computed, not writable: an unknown field
    ];
    for (const [json, field] of cases) await expect422(`/api/series/${s.series_id}`, { method: "PUT", json }, field);
    await expect422("/api/series/abc", { method: "PUT", json: { author: "x" } }, "path.id");
  });
});

describe("DELETE /api/series/:id", () => {
  it("deletes the series and its gaps, and answers 404 afterwards", async () => {
    const s = await createSeries({ total_books: 3 });
    const db = primaryDatabase(env);
    await db.insert(missingBooks).values({ title: "Gap", seriesId: s.series_id, seriesNumber: "1", reasonMissing: "series_gap" });
    const { status, body } = await api(`/api/series/${s.series_id}`, { method: "DELETE" });
    expect(status).toBe(200);
    expect(body.data).toEqual({ series_id: s.series_id, message: `Series '${s.name}' deleted` });
    expect(await db.select().from(missingBooks).where(eq(missingBooks.seriesId, s.series_id))).toEqual([]);
    expect((await api(`/api/series/${s.series_id}`)).status).toBe(404);
    const again = await api(`/api/series/${s.series_id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject(errorShape(404, "not_found"));
  });

  it("answers 422 for a bad id", async () => {
    for (const id of BAD_IDS) await expect422(`/api/series/${id}`, { method: "DELETE" }, "path.id");
  });
});

describe("GET /api/series/:id/completion", () => {
  it("answers the stored completion, without recalculating", async () => {
    const s = await seriesWithBooks(1, 4);
    await insertBooks(2, { series: s.name }); // behind the routes' back: not counted until a recompute
    const { status, body } = await api(`/api/series/${s.id}/completion`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      series_id: s.id,
      series_name: s.name,
      total_books_in_series: 4,
      books_owned: 1,
      books_missing: 3,
      completion_percentage: 25,
      completion_status: "incomplete",
      last_completion_check: ISO,
    });
  });

  it("answers 404 and 422", async () => {
    expect((await api("/api/series/999999999/completion")).status).toBe(404);
    for (const id of BAD_IDS) await expect422(`/api/series/${id}/completion`, {}, "path.id");
  });
});

describe("PUT /api/series/:id/recalculate-completion", () => {
  it("recounts the books and answers the stats", async () => {
    const s = await seriesWithBooks(1, 4);
    await insertBooks(2, { series: s.name });
    const { status, body } = await api(`/api/series/${s.id}/recalculate-completion`, { method: "PUT" });
    expect(status).toBe(200);
    expect(body.data).toEqual({
      series_id: s.id,
      series_name: s.name,
      stats: { books_owned: 3, books_missing: 1, total_books: 4, completion_percentage: 75, completion_status: "partial" },
      last_completion_check: ISO,
    });
    expect((await api(`/api/series/${s.id}/completion`)).body.data).toMatchObject({ books_owned: 3, completion_percentage: 75 });
  });

  it("answers 404 and 422", async () => {
    const missing = await api("/api/series/999999999/recalculate-completion", { method: "PUT" });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject(errorShape(404, "not_found"));
    for (const id of BAD_IDS) await expect422(`/api/series/${id}/recalculate-completion`, { method: "PUT" }, "path.id");
  });
});

describe("GET /api/series/completion-summary", () => {
  it("reaches its handler (not /:id) and moves by exactly what was added", async () => {
    const before = await api("/api/series/completion-summary");
    expect(before.status).toBe(200);
    expect(Object.keys(before.body.data).sort()).toEqual(
      [
        "average_completion_percentage",
        "complete",
        "incomplete",
        "partial",
        "total_books_missing",
        "total_books_owned",
        "total_series",
      ].sort(),
    );
    await seriesWithBooks(2, 2); // complete, 2 owned
    await seriesWithBooks(3, 4); // partial, 3 owned, 1 missing
    await seriesWithBooks(1, 5); // incomplete, 1 owned, 4 missing
    const after = (await api("/api/series/completion-summary/")).body.data;
    const b = before.body.data;
    expect(after).toMatchObject({
      total_series: b.total_series + 3,
      complete: b.complete + 1,
      partial: b.partial + 1,
      incomplete: b.incomplete + 1,
      total_books_owned: b.total_books_owned + 6,
      total_books_missing: b.total_books_missing + 5,
    });
    // the average over every series, to 2 decimals
    const all = (await api("/api/series?limit=500")).body.data.series as { completion_percentage: number }[];
    expect(after.total_series).toBe(all.length);
    const average = all.reduce((sum, s) => sum + s.completion_percentage, 0) / all.length;
    expect(Math.abs(after.average_completion_percentage - average)).toBeLessThanOrEqual(0.005);
    expect(after.average_completion_percentage).toBe(Number(after.average_completion_percentage.toFixed(2)));
  });
});

describe("GET /api/series/incomplete", () => {
  it("reaches its handler and answers the series within the range, closest to complete first", async () => {
    const low = await seriesWithBooks(1, 4); // 25
    const high = await seriesWithBooks(3, 4); // 75
    const done = await seriesWithBooks(2, 2); // 100
    const { status, body } = await api("/api/series/incomplete?limit=500");
    expect(status).toBe(200);
    expect(body.data).toEqual({
      min_completion: 0,
      max_completion: 99,
      series: expect.any(Array),
      total_incomplete: body.data.series.length,
    });
    const ids = body.data.series.map((s: { id: number }) => s.id);
    expect(ids).toContain(low.id);
    expect(ids).toContain(high.id);
    expect(ids).not.toContain(done.id);
    expect(ids.indexOf(high.id)).toBeLessThan(ids.indexOf(low.id));
    expect(Object.keys(body.data.series[0]).sort()).toEqual(Object.keys(seriesShape()).sort());

    const band = (await api("/api/series/incomplete?min_completion=50&max_completion=80&limit=500")).body.data;
    expect(
      band.series.every((s: { completion_percentage: number }) => s.completion_percentage >= 50 && s.completion_percentage <= 80),
    ).toBe(true);
    expect(band.series.map((s: { id: number }) => s.id)).toContain(high.id);
    expect(band.series.map((s: { id: number }) => s.id)).not.toContain(low.id);
  });

  it("caps the list at limit but counts every match", async () => {
    await seriesWithBooks(1, 4);
    await seriesWithBooks(1, 4);
    const { body } = await api("/api/series/incomplete?limit=1");
    expect(body.data.series).toHaveLength(1);
    expect(body.data.total_incomplete).toBeGreaterThanOrEqual(2);
  });

  it("answers 422 for bounds out of range, min above max, or a bad limit", async () => {
    for (const query of [
      "min_completion=-1",
      "max_completion=101",
      "min_completion=60&max_completion=50",
      "limit=0",
      "limit=501",
      "max_completion=x",
    ]) {
      await expect422(`/api/series/incomplete?${query}`, {});
    }
  });
});

describe("access", () => {
  it("lets a viewer read and refuses a viewer's writes with 403", async () => {
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const s = await createSeries();
    expect((await call("/api/series", { headers: viewer })).status).toBe(200);
    expect((await call(`/api/series/${s.series_id}`, { headers: viewer })).status).toBe(200);
    for (const [method, path] of [
      ["POST", "/api/series"],
      ["PUT", `/api/series/${s.series_id}`],
      ["DELETE", `/api/series/${s.series_id}`],
      ["PUT", `/api/series/${s.series_id}/recalculate-completion`],
    ] as const) {
      const res = await call(path, { method, headers: viewer, json: { name: unique() } });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject(errorShape(403, "forbidden"));
    }
  });

  it("refuses callers without credentials", async () => {
    const res = await call("/api/series/completion-summary");
    expect(res.status).toBe(401);
  });
});

/**
 * Completion is never stale: every write that can move a series' or an author's counts recomputes
 * them in its own batch. Each case writes through the real routes and reads the stored counts
 * straight after, with no recalculation in between.
 */
describe("completion is never stale", () => {
  async function tracked(total = 4) {
    const series = await createSeries({ total_books: total });
    const author = await createAuthor({ total_books: total });
    return { seriesId: series.series_id, seriesName: String(series.name), authorId: author.author_id, authorName: String(author.name) };
  }

  it("creating a book counts it for its series and its author", async () => {
    const t = await tracked();
    await createBook({ series: t.seriesName, author: t.authorName });
    await createBook({ series: ` ${t.seriesName.toUpperCase()} `, author: t.authorName.toLowerCase() });
    expect(await storedCounts(t.seriesId, t.authorId)).toEqual({
      series: { owned: 2, missing: 2, pct: 50, status: "partial" },
      author: { owned: 2, missing: 2, pct: 50, status: "partial" },
    });
  });

  it("archiving a book (DELETE /api/books/:id) uncounts it", async () => {
    const t = await tracked();
    const a = await createBook({ series: t.seriesName, author: t.authorName });
    await createBook({ series: t.seriesName, author: t.authorName });
    expect((await api(`/api/books/${a.book_id}`, { method: "DELETE" })).status).toBe(200);
    expect(await storedCounts(t.seriesId, t.authorId)).toEqual({
      series: { owned: 1, missing: 3, pct: 25, status: "incomplete" },
      author: { owned: 1, missing: 3, pct: 25, status: "incomplete" },
    });
  });

  it("changing a book's series moves it from the old series to the new one", async () => {
    const from = await tracked();
    const to = await tracked();
    const book = await createBook({ series: from.seriesName, author: from.authorName });
    const res = await api(`/api/books/${book.book_id}`, { method: "PUT", json: { series: to.seriesName } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await storedCounts(from.seriesId, from.authorId)).series).toEqual({ owned: 0, missing: 4, pct: 0, status: "incomplete" });
    expect((await storedCounts(to.seriesId, from.authorId)).series).toEqual({ owned: 1, missing: 3, pct: 25, status: "incomplete" });
    // the author did not change
    expect((await storedCounts(to.seriesId, from.authorId)).author.owned).toBe(1);
  });

  it("re-assigning a book to another series and author moves both counts", async () => {
    const from = await tracked(2);
    const to = await tracked(2);
    const book = await createBook({ series: from.seriesName, author: from.authorName });
    await createBook({ series: to.seriesName, author: to.authorName });
    const res = await api(`/api/books/${book.book_id}`, { method: "PUT", json: { series: to.seriesName, author: to.authorName } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await storedCounts(from.seriesId, from.authorId)).toEqual({
      series: { owned: 0, missing: 2, pct: 0, status: "incomplete" },
      author: { owned: 0, missing: 2, pct: 0, status: "incomplete" },
    });
    expect(await storedCounts(to.seriesId, to.authorId)).toEqual({
      series: { owned: 2, missing: 0, pct: 100, status: "complete" },
      author: { owned: 2, missing: 0, pct: 100, status: "complete" },
    });
  });

  it("changing a book's status away from and back to active uncounts and recounts it", async () => {
    const t = await tracked(1);
    const book = await createBook({ series: t.seriesName, author: t.authorName });
    expect((await api(`/api/books/${book.book_id}`, { method: "PUT", json: { status: "duplicate" } })).status).toBe(200);
    expect((await storedCounts(t.seriesId, t.authorId)).series.owned).toBe(0);
    expect((await storedCounts(t.seriesId, t.authorId)).author.owned).toBe(0);
    await api(`/api/books/${book.book_id}`, { method: "DELETE" });
    const back = await api(`/api/books/${book.book_id}`, { method: "PUT", json: { status: "active" } });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(await storedCounts(t.seriesId, t.authorId)).toEqual({
      series: { owned: 1, missing: 0, pct: 100, status: "complete" },
      author: { owned: 1, missing: 0, pct: 100, status: "complete" },
    });
  });

  it("a bulk import counts every imported book, and a re-import that moves one moves its count", async () => {
    const t = await tracked();
    const other = await tracked();
    const batch = [1, 2, 3].map((n) => ({
      abs_id: unique("abs"),
      title: unique("imported"),
      series: t.seriesName,
      series_number: String(n),
      author: t.authorName,
    }));
    const res = await api("/api/books/import", { method: "POST", json: batch });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    expect(await storedCounts(t.seriesId, t.authorId)).toEqual({
      series: { owned: 3, missing: 1, pct: 75, status: "partial" },
      author: { owned: 3, missing: 1, pct: 75, status: "partial" },
    });
    const moved = await api("/api/books/import", {
      method: "POST",
      json: [{ ...batch[0], series: other.seriesName, author: other.authorName }],
    });
    expect(moved.status, JSON.stringify(moved.body)).toBeLessThan(300);
    expect((await storedCounts(t.seriesId, t.authorId)).series.owned).toBe(2);
    expect((await storedCounts(t.seriesId, t.authorId)).author.owned).toBe(2);
    expect((await storedCounts(other.seriesId, other.authorId)).series.owned).toBe(1);
    expect((await storedCounts(other.seriesId, other.authorId)).author.owned).toBe(1);
  });

  it("renaming the series counts the books carrying its new name", async () => {
    const t = await tracked();
    const newName = unique("renamed");
    await createBook({ series: newName, author: t.authorName });
    await createBook({ series: newName.toUpperCase(), author: t.authorName });
    await createBook({ series: t.seriesName, author: t.authorName });
    expect((await storedCounts(t.seriesId, t.authorId)).series.owned).toBe(1);
    const res = await api(`/api/series/${t.seriesId}`, { method: "PUT", json: { name: newName } });
    expect(res.status).toBe(200);
    expect((await storedCounts(t.seriesId, t.authorId)).series).toEqual({ owned: 2, missing: 2, pct: 50, status: "partial" });
  });

  it("renaming the author counts the books carrying the new name", async () => {
    const t = await tracked();
    const newName = unique("renamed-author");
    await createBook({ author: newName });
    await createBook({ author: t.authorName });
    const res = await api(`/api/authors/${t.authorId}`, { method: "PUT", json: { name: newName } });
    expect(res.status).toBe(200);
    expect((await storedCounts(t.seriesId, t.authorId)).author).toEqual({ owned: 1, missing: 3, pct: 25, status: "incomplete" });
  });

  it("changing the series' or the author's total recomputes them", async () => {
    const t = await tracked(4);
    await createBook({ series: t.seriesName, author: t.authorName });
    await createBook({ series: t.seriesName, author: t.authorName });
    expect((await api(`/api/series/${t.seriesId}`, { method: "PUT", json: { total_books_in_series: 2 } })).status).toBe(200);
    expect((await api(`/api/authors/${t.authorId}`, { method: "PUT", json: { total_audiobooks_external: 8 } })).status).toBe(200);
    expect(await storedCounts(t.seriesId, t.authorId)).toEqual({
      series: { owned: 2, missing: 0, pct: 100, status: "complete" },
      author: { owned: 2, missing: 6, pct: 25, status: "incomplete" },
    });
  });
});
