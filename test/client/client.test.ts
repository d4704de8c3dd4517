import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApiClient } from "../../client";
import committedDocument from "../../client/openapi.json";
import { unique } from "../fixtures";
import { API_KEY, call, errorShape, uniqueIp } from "../helpers";
import { assertDocumented } from "../openapi/conformance";

/** The typed client, calling this Worker's default export (as deployed) from its own address. */
function client(headers: Record<string, string> = { "X-API-Key": API_KEY }) {
  return createApiClient({
    baseUrl: "http://api.test",
    headers: { "CF-Connecting-IP": uniqueIp(), ...headers },
    // Answers are checked against /openapi.json, as every helper's are (test/openapi/conformance.ts).
    fetch: async (request) => {
      const response = await exports.default.fetch(request.clone());
      await assertDocumented(request, response);
      return response;
    },
  });
}

describe("the committed client (client/)", () => {
  it("was generated from the document the app serves now", async () => {
    const served = await (await call("/openapi.json")).json();
    expect(served, "client/ is out of date: run `npm run client:generate` and commit client/").toEqual(committedDocument);
  });
});

describe("the typed client against the app", () => {
  it("creates a series, adds a book to it, and lists books with a query", async () => {
    const api = client();
    const name = unique("Client Saga");
    const series = await api.POST("/api/series", { body: { name, total_books_in_series: 3 } });
    expect(series.response.status).toBe(201);
    expect(series.data).toMatchObject({ success: true, data: { name, books_owned: 0, total_books_in_series: 3 } });

    const title = unique("Client Book");
    const book = await api.POST("/api/books", { body: { title, author: "Ada Client", series: name, series_number: "1" } });
    expect(book.response.status).toBe(201);

    const list = await api.GET("/api/books", { params: { query: { search: title, limit: 5, status: "active" } } });
    expect(list.response.status).toBe(200);
    expect(list.error).toBeUndefined();
    expect(list.data).toMatchObject({
      success: true,
      data: { total: 1, books: [{ title, author: "Ada Client", series: name, series_number: "1" }] },
    });
  });

  it("answers the standard error body, typed, for a missing book and for a bad query", async () => {
    const api = client();
    const missing = await api.GET("/api/books/{id}", { params: { path: { id: 2_000_000_000 } } });
    expect(missing.response.status).toBe(404);
    expect(missing.data).toBeUndefined();
    expect(missing.error).toMatchObject(errorShape(404, "not_found"));

    const bad = await api.GET("/api/books", { params: { query: { limit: 0 } } });
    expect(bad.response.status).toBe(422);
    expect(bad.error).toMatchObject(errorShape(422, "validation_error"));
    expect(bad.error?.errors?.map((e) => e.path)).toEqual(["query.limit"]);
  });

  it("refuses at compile time what the document does not allow (and the server refuses it too)", async () => {
    // @ts-expect-error: a book's status is one of active, duplicate, archived, all
    const badStatus = await client().GET("/api/books", { params: { query: { status: "pending" } } });
    expect(badStatus.response.status).toBe(422);
    // @ts-expect-error: a series needs a name
    const noName = await client().POST("/api/series", { body: { total_books_in_series: 2 } });
    expect(noName.response.status).toBe(422);
  });

  it("answers 401 without credentials", async () => {
    const { response, error } = await client({}).GET("/api/series");
    expect(response.status).toBe(401);
    expect(error?.code).toBe("UNAUTHORIZED");
  });
});
