import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, createBook, createUser, loginAs, unique } from "./fixtures";
import { call, errorShape, withEnv } from "./helpers";

// One error of each kind, through real routes: the standard error shape (src/errors/render.ts) and X-Request-ID on all.

type Json = Record<string, any>;

async function expectError(res: Response, status: number, error: string): Promise<Json> {
  const body = await res.json<Json>();
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body).toMatchObject(errorShape(status, error));
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(res.headers.get("X-Request-ID")).toBe(body.request_id);
  return body;
}

const postRaw = (path: string, body: string, contentType = "application/json") =>
  call(path, { method: "POST", auth: true, body, headers: { "Content-Type": contentType } });

/** A D1 binding whose every query fails as D1 fails when the database is unreachable. */
const d1Failure = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
const brokenD1 = {
  prepare() {
    const statement = { bind: () => statement, all: d1Failure, raw: d1Failure, run: d1Failure, first: d1Failure };
    return statement;
  },
  batch: d1Failure,
  exec: d1Failure,
  // Opening a session is local, as on the real binding; its first query fails.
  withSession: () => ({ prepare: brokenD1.prepare, batch: d1Failure, getBookmark: () => null }),
};

/** A D1 binding that fails in a way nobody planned for. */
const bugD1 = {
  prepare() {
    throw new TypeError("Cannot read properties of undefined (reading 'secret internals')");
  },
  batch: () => Promise.reject(new TypeError("unexpected")),
  withSession: () => ({ prepare: bugD1.prepare, batch: bugD1.batch, getBookmark: () => null }),
};

describe("the error shape, one kind at a time", () => {
  it("400 malformed_request for a body that is not JSON", async () => {
    const body = await expectError(await postRaw("/api/books", '{"title":'), 400, "malformed_request");
    expect(body).not.toHaveProperty("errors");
  });

  it("415 unsupported_media_type for a body that is not sent as JSON", async () => {
    await expectError(await postRaw("/api/books", "title=Dune", "text/plain"), 415, "unsupported_media_type");
  });

  it("does not ask an empty body (Content-Length: 0) for its type", async () => {
    const token = await loginAs(await createUser());
    const res = await call("/api/admin/logout", {
      method: "POST",
      body: "",
      headers: { ...bearer(token), "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "0" },
    });
    expect(res.status).toBe(200);
  });

  it("413 payload_too_large for more than 1 MB to POST /api/books, and more than 5 MB to the import", async () => {
    const json = JSON.stringify({ title: "Big", description: "x".repeat(1024 * 1024 + 1) });
    await expectError(await postRaw("/api/books", json), 413, "payload_too_large");
    const overImportLimit = JSON.stringify([{ abs_id: "a", title: "Big", description: "x".repeat(5 * 1024 * 1024) }]);
    await expectError(await postRaw("/api/books/import", overImportLimit), 413, "payload_too_large");
  });

  it("lets 4 MB through to POST /api/books/import (5 MB limit): refused for its content, not its size", async () => {
    const prefix = unique("big");
    const rows = Array.from({ length: 1001 }, (_, i) => ({ abs_id: `${prefix}-${i}`, title: `T${i}`, description: "x".repeat(4200) }));
    const json = JSON.stringify(rows);
    expect(json.length).toBeGreaterThan(4 * 1024 * 1024);
    const body = await expectError(await postRaw("/api/books/import", json), 422, "validation_error");
    expect(body.errors).toEqual([{ path: "body", message: expect.any(String), code: "too_big" }]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM books WHERE abs_id LIKE ?").bind(`${prefix}%`).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("422 validation_error with errors[] naming path, message and code", async () => {
    const res = await call("/api/books", { method: "POST", auth: true, json: { title: "", published_year: "1965" } });
    const body = await expectError(res, 422, "validation_error");
    expect(body.message).toBe("Request validation failed");
    expect(body.errors).toEqual([
      { path: "body.title", message: expect.any(String), code: "too_small" },
      { path: "body.published_year", message: expect.any(String), code: "invalid_type" },
    ]);
    expect(body.detail).toBe(`body.title: ${body.errors[0].message}`);
  });

  it("404 not_found for an unknown route and for a missing book", async () => {
    await expectError(await call("/api/nothing-here", { auth: true }), 404, "not_found");
    const body = await expectError(await call("/api/books/999999999", { auth: true }), 404, "not_found");
    expect(body.detail).toBe("Book not found: 999999999");
  });

  it("405 method_not_allowed with Allow for a method the path does not have", async () => {
    const { book_id } = await createBook();
    const res = await call(`/api/books/${book_id}`, { method: "PATCH", auth: true, json: { title: "X" } });
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("Allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PUT"]);
  });

  it("404 and 405 before the body's type: an unknown path or method is not asked to send JSON", async () => {
    await expectError(await postRaw("/api/nothing-here", "title=Dune", "text/plain"), 404, "not_found");
    const { book_id } = await createBook();
    const res = await call(`/api/books/${book_id}`, {
      method: "PATCH",
      auth: true,
      body: "title=X",
      headers: { "Content-Type": "text/plain" },
    });
    await expectError(res, 405, "method_not_allowed");
  });

  it("409 duplicate_resource for a taken abs_id", async () => {
    const absId = unique("abs");
    await createBook({ abs_id: absId });
    await expectError(
      await call("/api/books", { method: "POST", auth: true, json: { title: "T", abs_id: absId } }),
      409,
      "duplicate_resource",
    );
  });

  it("503 database_error when D1 fails, for reads and for batched writes", async () => {
    const broken = withEnv({ DB: brokenD1 });
    const read = await expectError(await broken("/api/books", { auth: true }), 503, "database_error");
    expect(JSON.stringify(read)).not.toContain("Network connection lost");
    await expectError(await broken("/api/books", { method: "POST", auth: true, json: { title: "T" } }), 503, "database_error");
    await expectError(await broken("/api/metadata/status", { auth: true }), 503, "database_error");
  });

  it("500 internal_error in production: the standard shape, no context, no exception text", async () => {
    const key = "prod-operator-key-Zx81Qm2Lk7Vb4Np9Rt6Wy3Ja5";
    const production = withEnv({
      DB: bugD1,
      ENVIRONMENT: "production",
      API_KEY: key,
      JWT_SECRET: "prod-jwt-secret-Hq4Ls8Dv2Pk6Xn1Cz9Bm3Fw7T",
      PASSWORD_SALT: "prod-pepper-Gt5Ra1Ye8Uo3Ii6Pl2Kj9Hn4Mb7V",
    });
    const res = await production("/api/books", { headers: { "X-API-Key": key } });
    const body = await expectError(res, 500, "internal_error");
    expect(body).not.toHaveProperty("context");
    expect(JSON.stringify(body)).not.toMatch(/secret internals|TypeError|stack/);
  });

  it("echoes the caller's X-Request-ID", async () => {
    const res = await call("/api/books/abc", { auth: true, headers: { "X-Request-ID": "trace-42.a_b" } });
    const body = await expectError(res, 422, "validation_error");
    expect(body.request_id).toBe("trace-42.a_b");
  });

  it("makes its own id when the caller's is unsafe to echo, even if it starts safely", async () => {
    for (const sent of ["trace-1<script>", "ok id", `${"a".repeat(64)}b`, "trace-2/../x"]) {
      const res = await call("/api/books/abc", { auth: true, headers: { "X-Request-ID": sent } });
      const body = await expectError(res, 422, "validation_error");
      expect(body.request_id, sent).toMatch(/^req_[0-9a-f]{12}$/);
    }
  });

  it("makes ids of req_ and 12 hex characters, a new one each time", async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, async () => (await call("/health/live")).headers.get("X-Request-ID")));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
