import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { missingBooks } from "../../src/db/schema";
import { bearer, createAuthor, createUser, loginAs, unique } from "../fixtures";
import { call, errorShape } from "../helpers";
import { api, ISO, insertBooks } from "../library";

/** The full answer for one author, as every route maps it. */
function authorShape(fields: Record<string, unknown> = {}) {
  return {
    id: expect.any(Number),
    name: expect.any(String),
    goodreads_id: null,
    google_books_id: null,
    hardcover_id: null,
    mam_author_id: null,
    total_audiobooks_external: null,
    audiobooks_owned: 0,
    audiobooks_missing: 0,
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

/** An author with `owned` active books already in the library. */
async function authorWithBooks(owned: number, total: number | null, bookFields: Record<string, unknown> = {}) {
  const name = unique("author");
  await insertBooks(owned, { author: name, ...bookFields });
  const created = await createAuthor({ name, total_audiobooks_external: total });
  return { id: created.author_id, name };
}

describe("POST /api/authors", () => {
  it("creates an author (201) with every field, the name trimmed, and its completion computed", async () => {
    const name = unique("Le Guin");
    await insertBooks(3, { author: name.toUpperCase() });
    await insertBooks(1, { author: name, status: "archived" });
    const { status, body } = await api("/api/authors", {
      method: "POST",
      json: {
        name: ` ${name} `,
        goodreads_id: "gr",
        google_books_id: "gb",
        hardcover_id: "hc",
        mam_author_id: "mam",
        total_audiobooks_external: 4,
      },
    });
    expect(status).toBe(201);
    expect(body).toEqual({ success: true, data: expect.any(Object), error: null, timestamp: ISO });
    expect(body.data).toEqual({
      author_id: body.data.id,
      ...authorShape({
        name,
        goodreads_id: "gr",
        google_books_id: "gb",
        hardcover_id: "hc",
        mam_author_id: "mam",
        total_audiobooks_external: 4,
        audiobooks_owned: 3,
        audiobooks_missing: 1,
        completion_percentage: 75,
        completion_status: "partial",
      }),
    });
  });

  it("accepts the original's `total_books` and `total_books_authored` for the total", async () => {
    expect(await createAuthor({ total_books: 7 })).toMatchObject({ total_audiobooks_external: 7, audiobooks_missing: 7 });
    expect(await createAuthor({ total_books_authored: 3 })).toMatchObject({ total_audiobooks_external: 3 });
  });

  it("answers 409 duplicate_resource for a name that differs only in case or spaces", async () => {
    const name = unique("Author");
    await createAuthor({ name });
    for (const variant of [name, name.toLowerCase(), ` ${name.toUpperCase()}  `]) {
      const { status, body } = await api("/api/authors", { method: "POST", json: { name: variant } });
      expect(status, variant).toBe(409);
      expect(body).toMatchObject({ ...errorShape(409, "duplicate_resource"), detail: `Author '${name}' already exists` });
    }
  });

  it("answers 409 for names that only look different (issue 23): invisible, wide or Cyrillic characters, doubled spaces", async () => {
    const name = `Joe ${unique("Abercrombie")}`;
    await createAuthor({ name });
    for (const variant of [
      name.replace(" ", "\u00a0"),
      name.replace("Joe", "Jo\u200be"),
      name.replace("o", "\u043e"),
      name.replace("Joe", "Ｊｏｅ"),
      name.replace(" ", "  "),
    ]) {
      const { status, body } = await api("/api/authors", { method: "POST", json: { name: variant } });
      expect(status, JSON.stringify(variant)).toBe(409);
      expect(body).toMatchObject({ ...errorShape(409, "duplicate_resource"), detail: `Author '${name}' already exists` });
    }
  });

  it("answers 409, never 500, when the same new name is created concurrently", async () => {
    const name = unique("race");
    const answers = await Promise.all(Array.from({ length: 6 }, () => api("/api/authors", { method: "POST", json: { name } })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it("answers 422 for each kind of bad body", async () => {
    const cases: [unknown, string][] = [
      [{}, "body.name"],
      [{ name: "" }, "body.name"],
      [{ name: "  " }, "body.name"],
      [{ name: ["x"] }, "body.name"],
      [{ name: "n".repeat(501) }, "body.name"],
      [{ name: unique(), goodreads_id: "g".repeat(256) }, "body.goodreads_id"],
      [{ name: unique(), google_books_id: 1 }, "body.google_books_id"],
      [{ name: unique(), mam_author_id: "m".repeat(256) }, "body.mam_author_id"],
      [{ name: unique(), total_books: 0 }, "body.total_books"],
      [{ name: unique(), total_audiobooks_external: 100_001 }, "body.total_audiobooks_external"],
      [{ name: unique(), total_audiobooks_external: "4" }, "body.total_audiobooks_external"],
      [{ name: unique(), total_books: 2, total_books_authored: 2 }, "body.total_books_authored"],
      [{ name: unique(), audiobooks_owned: 3 }, "body"], // computed, not writable
      [{ name: unique(), nickname: "x" }, "body"],
    ];
    for (const [json, field] of cases) await expect422("/api/authors", { method: "POST", json }, field);
  });
});

describe("author completion numbers", () => {
  it("follows the series rules: 75 partial, 100 complete, 125 partial, 25 incomplete, no total 0", async () => {
    const cases: [number, number | null, Record<string, unknown>][] = [
      [3, 4, { audiobooks_missing: 1, completion_percentage: 75, completion_status: "partial" }],
      [4, 4, { audiobooks_missing: 0, completion_percentage: 100, completion_status: "complete" }],
      // more owned than known: 125 and partial, as in the original
      [5, 4, { audiobooks_missing: 0, completion_percentage: 125, completion_status: "partial" }],
      [1, 4, { audiobooks_missing: 3, completion_percentage: 25, completion_status: "incomplete" }],
      [2, null, { audiobooks_missing: 0, completion_percentage: 0, completion_status: "incomplete" }],
    ];
    for (const [owned, total, expected] of cases) {
      const a = await authorWithBooks(owned, total);
      expect((await api(`/api/authors/${a.id}`)).body.data, `${owned} of ${total}`).toMatchObject({ audiobooks_owned: owned, ...expected });
    }
  });
});

describe("author completion with a remainder", () => {
  it("floors the percentage, as the series one is: 2 of 3 is 66, 7 of 8 is 87, 1 of 6 is 16", async () => {
    for (const [owned, total, pct, status] of [
      [2, 3, 66, "partial"],
      [7, 8, 87, "partial"],
      [1, 6, 16, "incomplete"],
    ] as const) {
      const a = await authorWithBooks(owned, total);
      const what = `${owned} of ${total}`;
      expect((await api(`/api/authors/${a.id}`)).body.data, what).toMatchObject({ completion_percentage: pct, completion_status: status });
      expect((await api(`/api/authors/${a.id}/completion`)).body.data, what).toMatchObject({ completion_percentage: pct });
      const recalculated = await api(`/api/authors/${a.id}/recalculate-completion`, { method: "PUT" });
      expect(recalculated.body.data.stats, what).toMatchObject({ completion_percentage: pct, completion_status: status });
    }
  });
});

describe("GET /api/authors", () => {
  it("lists authors with the page shape, most books owned first, then by name", async () => {
    await authorWithBooks(3, null);
    await authorWithBooks(1, null);
    const { status, body } = await api("/api/authors?limit=500");
    expect(status).toBe(200);
    expect(body.data).toEqual({
      authors: expect.any(Array),
      total: body.data.authors.length,
      page_info: { limit: 500, offset: 0, has_more: false },
    });
    expect(Object.keys(body.data.authors[0]).sort()).toEqual(Object.keys(authorShape()).sort());
    const order = body.data.authors.map((a: { audiobooks_owned: number; name: string }) => [a.audiobooks_owned, a.name]);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    expect(order).toEqual(sorted);
  });

  it("pages with limit and offset, and filters by completion_status in SQL", async () => {
    await authorWithBooks(2, 2);
    await authorWithBooks(1, 1);
    const all = (await api("/api/authors?limit=500")).body.data;
    const paged = (await api("/api/authors?limit=1&offset=1")).body.data;
    expect(paged.authors).toEqual([all.authors[1]]);
    expect(paged.page_info).toEqual({ limit: 1, offset: 1, has_more: all.total > 2 });
    const complete = (await api("/api/authors?completion_status=complete&limit=1")).body.data;
    expect(complete.authors[0].completion_status).toBe("complete");
    const expected = all.authors.filter((a: { completion_status: string }) => a.completion_status === "complete").length;
    expect(complete.total).toBe(expected);
    expect(complete.page_info.has_more).toBe(expected > 1);
  });

  it("answers 422 for a bad limit, offset or status", async () => {
    for (const query of ["limit=0", "limit=501", "offset=-5", "offset=x", "completion_status=full"]) {
      await expect422(`/api/authors?${query}`, {}, `query.${query.split("=")[0]}`);
    }
  });
});

describe("GET /api/authors/:id", () => {
  it("answers the author with their active books", async () => {
    const name = unique("with-books");
    const created = await createAuthor({ name });
    const [first] = await insertBooks(1, { author: name, title: "First", series: "S", seriesNumber: "1", publishedYear: 1999 });
    const [loose] = await insertBooks(1, { author: name.toUpperCase(), title: "Loose", series: null, seriesNumber: null });
    await insertBooks(1, { author: name, status: "archived" });
    const { status, body } = await api(`/api/authors/${created.author_id}`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      ...authorShape({ id: created.author_id, name }), // stored counts: the books were written behind the routes' back
      books: [
        { id: first, title: "First", series: "S", series_number: "1", published_year: 1999, status: "active" },
        { id: loose, title: "Loose", series: null, series_number: null, published_year: null, status: "active" },
      ],
    });
  });

  it("answers 404 and 422", async () => {
    const { status, body } = await api("/api/authors/999999999");
    expect(status).toBe(404);
    expect(body).toMatchObject({ ...errorShape(404, "not_found"), detail: "Author not found: 999999999" });
    for (const id of BAD_IDS) await expect422(`/api/authors/${id}`, {}, "path.id");
  });
});

describe("GET /api/authors/:id/books", () => {
  it("answers every book of the author with its status, or those of one status", async () => {
    const name = unique("shelf");
    const created = await createAuthor({ name });
    const [active] = await insertBooks(1, { author: name, title: "A", series: "S", seriesNumber: "2" });
    const [archived] = await insertBooks(1, { author: name, title: "B", series: "S", seriesNumber: "3", status: "archived" });
    await insertBooks(1, { author: unique("someone-else") });
    const { status, body } = await api(`/api/authors/${created.author_id}/books`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      author_id: created.author_id,
      author_name: name,
      books: [
        { id: active, title: "A", series: "S", series_number: "2", published_year: null, status: "active" },
        { id: archived, title: "B", series: "S", series_number: "3", published_year: null, status: "archived" },
      ],
      total_books: 2,
    });
    const onlyArchived = (await api(`/api/authors/${created.author_id}/books?status=archived`)).body.data;
    expect(onlyArchived.books.map((b: { id: number }) => b.id)).toEqual([archived]);
    expect(onlyArchived.total_books).toBe(1);
  });

  it("answers 404 and 422", async () => {
    expect((await api("/api/authors/999999999/books")).status).toBe(404);
    for (const id of BAD_IDS) await expect422(`/api/authors/${id}/books`, {}, "path.id");
    const a = await createAuthor();
    await expect422(`/api/authors/${a.author_id}/books?status=lost`, {}, "query.status");
  });
});

describe("PUT /api/authors/:id", () => {
  it("changes the given fields, answers changes_made, and recomputes", async () => {
    const a = await authorWithBooks(2, null);
    const { status, body } = await api(`/api/authors/${a.id}`, {
      method: "PUT",
      json: { goodreads_id: " gr-9 ", total_books_authored: 8, hardcover_id: null },
    });
    expect(status).toBe(200);
    expect(body.data).toEqual({
      author_id: a.id,
      changes_made: { goodreads_id: { old: null, new: "gr-9" }, total_audiobooks_external: { old: null, new: 8 } },
      ...authorShape({
        id: a.id,
        name: a.name,
        goodreads_id: "gr-9",
        total_audiobooks_external: 8,
        audiobooks_owned: 2,
        audiobooks_missing: 6,
        completion_percentage: 25,
      }),
    });
  });

  it("answers an empty changes_made when nothing differs", async () => {
    const a = await authorWithBooks(1, 3);
    const { status, body } = await api(`/api/authors/${a.id}`, { method: "PUT", json: { name: a.name, total_books: 3 } });
    expect(status).toBe(200);
    expect(body.data.changes_made).toEqual({});
  });

  it("answers 409 when renamed to another author's name in any case or spacing, and allows its own in another case", async () => {
    const taken = await createAuthor();
    const a = await createAuthor();
    for (const name of [String(taken.name).toUpperCase(), `  ${taken.name}`]) {
      const { status, body } = await api(`/api/authors/${a.author_id}`, { method: "PUT", json: { name } });
      expect(status).toBe(409);
      expect(body).toMatchObject(errorShape(409, "duplicate_resource"));
    }
    const own = await api(`/api/authors/${a.author_id}`, { method: "PUT", json: { name: String(a.name).toUpperCase() } });
    expect(own.status).toBe(200);
  });

  it("answers 404 for a missing id and 422 for bad input", async () => {
    const missing = await api("/api/authors/999999999", { method: "PUT", json: { mam_author_id: "x" } });
    expect(missing.status).toBe(404);
    const a = await createAuthor();
    const cases: [unknown, string][] = [
      [{}, "body"],
      [{ name: "" }, "body.name"],
      [{ name: 3 }, "body.name"],
      [{ total_audiobooks_external: -1 }, "body.total_audiobooks_external"],
      [{ total_books_authored: 1.5 }, "body.total_books_authored"],
      [{ total_books: 1, total_audiobooks_external: 1 }, "body.total_books"],
      [{ google_books_id: "g".repeat(256) }, "body.google_books_id"],
      [{ date_created: "2020-01-01" }, "body"],
    ];
    for (const [json, field] of cases) await expect422(`/api/authors/${a.author_id}`, { method: "PUT", json }, field);
    await expect422("/api/authors/0", { method: "PUT", json: { name: "x" } }, "path.id");
  });
});

describe("DELETE /api/authors/:id", () => {
  it("deletes the author and its gaps, and answers 404 afterwards", async () => {
    const a = await createAuthor();
    const db = primaryDatabase(env);
    await db.insert(missingBooks).values({ title: "Gap", authorId: a.author_id, reasonMissing: "author_gap" });
    const { status, body } = await api(`/api/authors/${a.author_id}`, { method: "DELETE" });
    expect(status).toBe(200);
    expect(body.data).toEqual({ author_id: a.author_id, message: `Author '${a.name}' deleted` });
    expect(await db.select().from(missingBooks).where(eq(missingBooks.authorId, a.author_id))).toEqual([]);
    expect((await api(`/api/authors/${a.author_id}`)).status).toBe(404);
    expect((await api(`/api/authors/${a.author_id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("answers 422 for a bad id", async () => {
    for (const id of BAD_IDS) await expect422(`/api/authors/${id}`, { method: "DELETE" }, "path.id");
  });
});

describe("GET /api/authors/:id/completion", () => {
  it("answers the stored completion, without recalculating", async () => {
    const a = await authorWithBooks(1, 4);
    await insertBooks(1, { author: a.name });
    const { status, body } = await api(`/api/authors/${a.id}/completion`);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      author_id: a.id,
      author_name: a.name,
      total_audiobooks_external: 4,
      audiobooks_owned: 1,
      audiobooks_missing: 3,
      completion_percentage: 25,
      completion_status: "incomplete",
      last_completion_check: ISO,
    });
  });

  it("answers 404 and 422", async () => {
    expect((await api("/api/authors/999999999/completion")).status).toBe(404);
    for (const id of BAD_IDS) await expect422(`/api/authors/${id}/completion`, {}, "path.id");
  });
});

describe("PUT /api/authors/:id/recalculate-completion", () => {
  it("recounts the books and answers the stats", async () => {
    const a = await authorWithBooks(1, 4);
    await insertBooks(3, { author: a.name });
    const { status, body } = await api(`/api/authors/${a.id}/recalculate-completion`, { method: "PUT" });
    expect(status).toBe(200);
    expect(body.data).toEqual({
      author_id: a.id,
      author_name: a.name,
      stats: {
        audiobooks_owned: 4,
        audiobooks_missing: 0,
        total_audiobooks_external: 4,
        completion_percentage: 100,
        completion_status: "complete",
      },
      last_completion_check: ISO,
    });
  });

  it("answers 404 and 422", async () => {
    expect((await api("/api/authors/999999999/recalculate-completion", { method: "PUT" })).status).toBe(404);
    for (const id of BAD_IDS) await expect422(`/api/authors/${id}/recalculate-completion`, { method: "PUT" }, "path.id");
  });
});

describe("GET /api/authors/favorites", () => {
  it("reaches its handler and answers authors owning at least min_books, most owned first", async () => {
    const three = await authorWithBooks(3, null);
    const two = await authorWithBooks(2, null);
    const one = await authorWithBooks(1, null);
    const { status, body } = await api("/api/authors/favorites?limit=500");
    expect(status).toBe(200);
    expect(body.data).toEqual({ min_books: 2, authors: expect.any(Array), total_favorites: body.data.authors.length });
    const ids = body.data.authors.map((a: { id: number }) => a.id);
    expect(ids).toContain(three.id);
    expect(ids).toContain(two.id);
    expect(ids).not.toContain(one.id);
    expect(ids.indexOf(three.id)).toBeLessThan(ids.indexOf(two.id));
    expect(body.data.authors.every((a: { audiobooks_owned: number }) => a.audiobooks_owned >= 2)).toBe(true);
    expect(Object.keys(body.data.authors[0]).sort()).toEqual(Object.keys(authorShape()).sort());

    const strict = (await api("/api/authors/favorites?min_books=3&limit=1")).body.data;
    expect(strict.min_books).toBe(3);
    expect(strict.authors).toHaveLength(1);
    expect(strict.authors[0].audiobooks_owned).toBeGreaterThanOrEqual(3);
  });

  it("answers 422 for a bad min_books or limit", async () => {
    for (const query of ["min_books=0", "min_books=two", "limit=0", "limit=501"]) await expect422(`/api/authors/favorites?${query}`, {});
  });
});

describe("GET /api/authors/completion-summary", () => {
  it("reaches its handler (not /:id) and moves by exactly what was added", async () => {
    const before = await api("/api/authors/completion-summary");
    expect(before.status).toBe(200);
    expect(Object.keys(before.body.data).sort()).toEqual(
      [
        "average_completion_percentage",
        "complete",
        "favorite_authors",
        "incomplete",
        "partial",
        "total_audiobooks_missing",
        "total_audiobooks_owned",
        "total_authors",
      ].sort(),
    );
    await authorWithBooks(2, 2); // complete, favourite
    await authorWithBooks(3, 4); // partial, favourite, 1 missing
    await authorWithBooks(1, null); // incomplete
    const after = (await api("/api/authors/completion-summary")).body.data;
    const b = before.body.data;
    expect(after).toMatchObject({
      total_authors: b.total_authors + 3,
      complete: b.complete + 1,
      partial: b.partial + 1,
      incomplete: b.incomplete + 1,
      favorite_authors: b.favorite_authors + 2,
      total_audiobooks_owned: b.total_audiobooks_owned + 6,
      total_audiobooks_missing: b.total_audiobooks_missing + 1,
    });
    const all = (await api("/api/authors?limit=500")).body.data.authors as { completion_percentage: number }[];
    const average = all.reduce((sum, a) => sum + a.completion_percentage, 0) / all.length;
    expect(Math.abs(after.average_completion_percentage - average)).toBeLessThanOrEqual(0.005);
  });
});

describe("access", () => {
  it("lets a viewer read and refuses a viewer's writes with 403", async () => {
    const viewer = bearer(await loginAs(await createUser("viewer")));
    const a = await createAuthor();
    for (const path of ["/api/authors", "/api/authors/favorites", `/api/authors/${a.author_id}/books`]) {
      expect((await call(path, { headers: viewer })).status, path).toBe(200);
    }
    for (const [method, path] of [
      ["POST", "/api/authors"],
      ["PUT", `/api/authors/${a.author_id}`],
      ["DELETE", `/api/authors/${a.author_id}`],
      ["PUT", `/api/authors/${a.author_id}/recalculate-completion`],
    ] as const) {
      const res = await call(path, { method, headers: viewer, json: { name: unique() } });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject(errorShape(403, "forbidden"));
    }
  });
});
