import { env } from "cloudflare:workers";
import { asc, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { authors, bookAuthors, bookSeries, books, metadataCorrections, series } from "../../src/db/schema";
import { call } from "../helpers";

/**
 * book_series and book_authors are kept by triggers on books (drizzle/0009_book_series_authors.sql),
 * whoever writes the book: here the books API, not the sync.
 */

const db = primaryDatabase(env);

const links = async (bookId: number) => ({
  series: (await db.select().from(bookSeries).where(eq(bookSeries.bookId, bookId)).orderBy(asc(bookSeries.position))).map(
    (l) => `${l.position}:${l.name}#${l.sequence}`,
  ),
  authors: (await db.select().from(bookAuthors).where(eq(bookAuthors.bookId, bookId)).orderBy(asc(bookAuthors.position))).map(
    (l) => `${l.position}:${l.name}`,
  ),
});

beforeEach(async () => {
  await db.delete(metadataCorrections);
  await db.delete(books);
  await db.delete(series);
  await db.delete(authors);
});

describe("book links follow every write to books", () => {
  it("on create, update and delete through the API, and completion counts each author of 'A, B'", async () => {
    for (const name of ["Terry Pratchett", "Neil Gaiman"]) {
      expect((await call("/api/authors", { method: "POST", auth: true, json: { name } })).status).toBe(201);
    }
    const created = await call("/api/books", {
      method: "POST",
      auth: true,
      json: { title: "Good Omens", author: "Terry Pratchett, Neil Gaiman", series: "Omens", series_number: "1" },
    });
    expect(created.status).toBe(201);
    const id = (await created.json<any>()).data.book_id;
    expect(await links(id)).toEqual({ series: ["0:Omens#1"], authors: ["0:Terry Pratchett", "1:Neil Gaiman"] });
    const owned = async (name: string) => (await db.select().from(authors).where(eq(authors.name, name)).get())?.audiobooksOwned;
    expect([await owned("Terry Pratchett"), await owned("Neil Gaiman")]).toEqual([1, 1]);

    const updated = await call(`/api/books/${id}`, { method: "PUT", auth: true, json: { author: "Neil Gaiman", series_number: "2" } });
    expect(updated.status).toBe(200);
    expect(await links(id)).toEqual({ series: ["0:Omens#2"], authors: ["0:Neil Gaiman"] });
    expect([await owned("Terry Pratchett"), await owned("Neil Gaiman")]).toEqual([0, 1]);

    await db.delete(books).where(eq(books.id, id));
    expect(await links(id)).toEqual({ series: [], authors: [] });
  });
});
