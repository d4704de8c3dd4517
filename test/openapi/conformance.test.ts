import { describe, expect, it } from "vitest";
import { assertDocumented } from "./conformance";

const request = (method: string, path: string) => new Request(`http://api.test${path}`, { method });
const jsonResponse = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const envelope = (data: unknown) => ({ success: true, data, error: null, timestamp: "2026-11-29T10:00:00.000Z" });

describe("answers checked against /openapi.json", () => {
  it("accepts an answer the document describes", async () => {
    const summary = {
      total_series: 1,
      complete: 1,
      partial: 0,
      incomplete: 0,
      average_completion_percentage: 100,
      total_books_owned: 3,
      total_books_missing: 0,
    };
    await expect(
      assertDocumented(request("GET", "/api/series/completion-summary"), jsonResponse(envelope(summary), 200)),
    ).resolves.toBeUndefined();
  });

  it("fails on a body that does not match the route's schema, naming the field", async () => {
    const summary = {
      total_series: "1",
      complete: 1,
      partial: 0,
      incomplete: 0,
      average_completion_percentage: 100,
      total_books_owned: 3,
      total_books_missing: 0,
    };
    await expect(assertDocumented(request("GET", "/api/series/completion-summary"), jsonResponse(envelope(summary), 200))).rejects.toThrow(
      /does not describe:[\s\S]*total_series/,
    );
  });

  it("fails on a field the schema does not have (a leak)", async () => {
    const summary = {
      total_series: 1,
      complete: 1,
      partial: 0,
      incomplete: 0,
      average_completion_percentage: 100,
      total_books_owned: 3,
      total_books_missing: 0,
      secret: "x",
    };
    await expect(assertDocumented(request("GET", "/api/series/completion-summary"), jsonResponse(envelope(summary), 200))).rejects.toThrow(
      /does not describe/,
    );
  });

  it("fails on a status the route does not document", async () => {
    await expect(assertDocumented(request("GET", "/api/series/completion-summary"), jsonResponse(envelope({}), 201))).rejects.toThrow(
      /does not document 201/,
    );
  });

  it("checks unmatched paths against the error shape and 404/405 only", async () => {
    const notFound = {
      success: false,
      error: "not_found",
      code: "NOT_FOUND",
      message: "Not found",
      status_code: 404,
      detail: null,
      timestamp: "2026-11-29T10:00:00.000Z",
      request_id: "r",
    };
    await expect(assertDocumented(request("GET", "/api/nothing"), jsonResponse(notFound, 404))).resolves.toBeUndefined();
    await expect(assertDocumented(request("GET", "/api/nothing"), jsonResponse(envelope({}), 200))).rejects.toThrow(/no documented route/);
    await expect(assertDocumented(request("GET", "/api/nothing"), jsonResponse({ ...notFound, extra: 1 }, 404))).rejects.toThrow(
      /does not describe/,
    );
  });
});
