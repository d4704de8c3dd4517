import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, errorShape, withEnv } from "../helpers";

/** What local D1 hands out: four hex fields (checked against the real binding below). */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The real D1 binding, recording what each request's session was opened with. */
function recordingDb() {
  const opened: (string | undefined)[] = [];
  const db = {
    prepare: (query: string) => env.DB.prepare(query),
    batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
    exec: (query: string) => env.DB.exec(query),
    withSession: (constraint?: string) => {
      opened.push(constraint);
      return env.DB.withSession(constraint);
    },
  };
  return { opened, db };
}

describe("X-D1-Bookmark", () => {
  it("a write answers the local D1's real bookmark, and the next read accepts it and answers one at least as fresh", async () => {
    const res = await call("/api/books", { method: "POST", auth: true, json: { title: "Bookmarked" } });
    expect(res.status).toBe(201);
    const written = res.headers.get("X-D1-Bookmark");
    expect(written).toMatch(BOOKMARK);
    const { data } = await res.json<{ data: { book_id: number } }>();

    const read = await call(`/api/books/${data.book_id}`, { auth: true, headers: { "X-D1-Bookmark": written! } });
    expect(read.status).toBe(200);
    expect((await read.json<{ data: { title: string } }>()).data.title).toBe("Bookmarked");
    const after = read.headers.get("X-D1-Bookmark");
    expect(after).toMatch(BOOKMARK);
    // Bookmarks are fixed-width hex: ordering them as strings orders them in time.
    expect(after! >= written!).toBe(true);
  });

  it("a read without a bookmark works and answers one", async () => {
    const res = await call("/api/books?limit=1", { auth: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-D1-Bookmark")).toMatch(BOOKMARK);
  });

  it("every later write answers a later bookmark", async () => {
    const first = await call("/api/books", { method: "POST", auth: true, json: { title: "First" } });
    const second = await call("/api/books", { method: "POST", auth: true, json: { title: "Second" } });
    expect(second.headers.get("X-D1-Bookmark")! > first.headers.get("X-D1-Bookmark")!).toBe(true);
  });

  it.each([
    ["not a bookmark", "not-a-bookmark"],
    ["a session constraint", "first-primary"],
    ["a truncated bookmark", "00000000-00000003-00000000-0000"],
    ["a bookmark with trailing junk", "00000000-00000003-00000000-00000000000000000000000000000000x"],
  ])("refuses %s with 400 invalid_input, before any credential is checked", async (_, bookmark) => {
    for (const auth of [true, false]) {
      const res = await call("/api/books", { auth, headers: { "X-D1-Bookmark": bookmark } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject(errorShape(400, "invalid_input"));
    }
  });

  it("is allowed and exposed to browsers through CORS", async () => {
    const fetchWith = withEnv({ ALLOWED_ORIGINS: "https://app.example" });
    const preflight = await fetchWith("/api/books", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-d1-bookmark" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("x-d1-bookmark");
    const res = await fetchWith("/api/books?limit=1", { auth: true, headers: { Origin: "https://app.example" } });
    expect(res.headers.get("Access-Control-Expose-Headers")?.toLowerCase()).toContain("x-d1-bookmark");
  });
});

describe("one D1 session per request, started where DEPLOYMENT.md (Read replication) says", () => {
  it.each([
    ["GET", "/api/books?limit=1", "first-unconstrained"],
    ["HEAD", "/api/books?limit=1", "first-unconstrained"],
    ["GET", "/api/books/search?query=kings", "first-unconstrained"],
    ["POST", "/api/books", "first-primary"],
    ["PUT", "/api/books/999999999", "first-primary"],
    ["DELETE", "/api/books/999999999", "first-primary"],
    ["GET", "/api/admin/users", "first-primary"],
    ["GET", "/api/admin/audit-logs", "first-primary"],
    ["POST", "/api/admin/login", "first-primary"],
  ])("%s %s starts %s", async (method, path, constraint) => {
    const { opened, db } = recordingDb();
    const res = await withEnv({ DB: db })(path, {
      method,
      auth: !path.endsWith("/login"),
      ...(method === "POST" || method === "PUT"
        ? { json: path.endsWith("/login") ? { username: "nobody", password: "wrong" } : { title: "Session" } }
        : {}),
    });
    expect(res.status).toBeLessThan(500);
    expect(opened).toEqual([constraint]);
  });

  it("a route that touches no table opens no session and answers no bookmark", async () => {
    const { opened, db } = recordingDb();
    const res = await withEnv({ DB: db })("/api/admin/me", { auth: true });
    expect(res.status).toBe(200);
    expect(opened).toEqual([]);
    expect(res.headers.has("X-D1-Bookmark")).toBe(false);
  });

  it("a read with a bookmark starts from that bookmark; a write with one still starts at the primary", async () => {
    const bookmark = (await call("/api/books", { method: "POST", auth: true, json: { title: "B" } })).headers.get("X-D1-Bookmark")!;
    const { opened, db } = recordingDb();
    const fetchWith = withEnv({ DB: db });
    expect((await fetchWith("/api/books?limit=1", { auth: true, headers: { "X-D1-Bookmark": bookmark } })).status).toBe(200);
    expect(
      (await fetchWith("/api/books", { method: "POST", auth: true, json: { title: "C" }, headers: { "X-D1-Bookmark": bookmark } })).status,
    ).toBe(201);
    expect(opened).toEqual([bookmark, "first-primary"]);
  });

  it("a scheduled run starts at the primary", async () => {
    const { opened, db } = recordingDb();
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "0 1 * * *", scheduledTime: Date.UTC(2031, 0, 1, 1) }),
      { ...env, DB: db as unknown as D1Database },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(opened).toEqual(["first-primary"]);
  });
});
