import { describe, expect, it } from "vitest";
import { createBook } from "../fixtures";
import { call, errorShape } from "../helpers";

// What the validators let through to the services: text without control characters, and numbers
// written as decimal digits only. Anything else is a 422 naming the field, never a database error.

async function expect422(res: Response, path: string) {
  const body = await res.json<{ errors: { path: string }[] }>();
  expect(res.status, JSON.stringify(body)).toBe(422);
  expect(body).toMatchObject(errorShape(422, "validation_error"));
  expect(body.errors.map((e) => e.path)).toContain(path);
}

describe("control characters in text input", () => {
  it("refuses a NUL byte in a search term with 422, not a database error", async () => {
    await expect422(await call("/api/books/search?query=Du%00ne", { auth: true }), "query.query");
    await expect422(await call("/api/books?search=%00abc", { auth: true }), "query.search");
  });

  it("refuses control characters in a path parameter and in a JSON body", async () => {
    await expect422(await call("/api/books/series/Du%01ne", { auth: true }), "path.name");
    await expect422(await call("/api/books", { method: "POST", auth: true, json: { title: "Du\u0000ne" } }), "body.title");
    await expect422(
      await call("/api/books", { method: "POST", auth: true, json: { title: "Dune", description: "a\u001bb" } }),
      "body.description",
    );
    await expect422(
      await call("/api/books", { method: "POST", auth: true, json: { title: "Dune", description: "a\u007fb" } }),
      "body.description",
    );
  });

  it("still accepts tabs and line breaks inside a body's text", async () => {
    const res = await call("/api/books", { method: "POST", auth: true, json: { title: "Dune", description: "Line one\n\tLine two\r\n" } });
    expect(res.status).toBe(201);
  });
});

describe("numbers in paths and queries", () => {
  it.each(["0x10", "1e2", "%201%20", "+5", "5.0", "-0"])("refuses the id %s", async (id) => {
    await expect422(await call(`/api/books/${id}`, { auth: true }), "path.id");
  });

  it.each(["0x10", "1e2", "%201%20", "1.5", ""])("refuses the limit %s", async (limit) => {
    await expect422(await call(`/api/books?limit=${limit}`, { auth: true }), "query.limit");
  });

  it("accepts plain decimal digits", async () => {
    const book = await createBook();
    expect((await call(`/api/books/${book.book_id}`, { auth: true })).status).toBe(200);
    const res = await call("/api/books?limit=007&offset=0", { auth: true });
    expect(res.status).toBe(200);
    expect((await res.json<{ data: { page_info: { limit: number } } }>()).data.page_info.limit).toBe(7);
  });
});
