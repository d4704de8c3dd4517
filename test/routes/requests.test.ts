import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { auditLogs, bookRequests, books, missingBooks } from "../../src/db/schema";
import { bearer, createBook, createSeries, createUser, loginAs, unique } from "../fixtures";
import { errorShape, withEnv } from "../helpers";
import { AUDIBLE_URL, type FakeBook, fakeAudible } from "../integrations/fake-audible";
import { fakeUpstream, json } from "../integrations/fake-upstream";

const db = primaryDatabase(env);
afterEach(() => vi.restoreAllMocks());

/** An ASIN no other test uses: open requests are one per ASIN across the database. */
const asin = () => `B0${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;

function catalogue(count = 2) {
  const author = `${unique("Ada")} Quill`.replace(/-/g, " ");
  const list: FakeBook[] = Array.from({ length: count }, (_, i) => ({ asin: asin(), title: `${unique("Lantern")} Book ${i + 1}`, author }));
  return { author, list };
}

type Caller = { headers?: Record<string, string>; auth?: boolean };
const operatorKey: Caller = { auth: true };

function client(overrides: Record<string, unknown> = {}) {
  const fetchIt = withEnv({ AUDIBLE_URL, REQUESTS_AUTO_APPROVE: "admin", ...overrides });
  return async (path: string, who: Caller, init: { method?: string; json?: unknown } = {}) => {
    const res = await fetchIt(path, { ...who, ...init });
    return { status: res.status, body: (await res.json()) as any };
  };
}

async function viewer(): Promise<Caller & { name: string }> {
  const user = await createUser("viewer");
  return { headers: bearer(await loginAs(user)), name: `user:${user.username}` };
}
async function moderator(): Promise<Caller & { name: string }> {
  const user = await createUser("moderator");
  return { headers: bearer(await loginAs(user)), name: `user:${user.username}` };
}

describe("GET /api/requests/search", () => {
  it("answers the catalogue's books, each saying whether it is owned, requested, downloading or wanted", async () => {
    const { author, list } = catalogue(4);
    const [owned, requested, wanted, free] = list as [FakeBook, FakeBook, FakeBook, FakeBook];
    fakeAudible(list, []);
    // Owned by title and author, without an ASIN in the library ("Ada Quill" written as ABS joins authors).
    await db.insert(books).values({ title: `${owned.title}: A Novel`, author: `${author}, Someone Else` });
    await db
      .insert(missingBooks)
      .values({ title: wanted.title, authorName: author, reasonMissing: "new_release", asin: wanted.asin, downloadStatus: "downloading" });
    const api = client();
    const ana = await viewer();
    const made = await api("/api/requests", ana, { method: "POST", json: { asin: requested.asin } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);

    const bob = await viewer();
    const { status, body } = await api(`/api/requests/search?q=${encodeURIComponent(author)}`, bob);
    expect(status, JSON.stringify(body)).toBe(200);
    const byAsin = Object.fromEntries(body.data.results.map((r: any) => [r.asin, r]));
    expect(byAsin[owned.asin]).toMatchObject({
      title: owned.title,
      authors: [author],
      in_library: { book_id: expect.any(Number) },
      request: null,
    });
    // Another viewer sees that it is requested, not by whom.
    expect(byAsin[requested.asin]).toMatchObject({
      in_library: null,
      request: { id: made.body.data.id, status: "pending", mine: false, requested_by: null },
    });
    expect(byAsin[wanted.asin]).toMatchObject({ downloading: true, wanted: { reason: "new_release", download_status: "downloading" } });
    expect(byAsin[free.asin]).toMatchObject({ in_library: null, request: null, downloading: false, wanted: null });

    // An operator sees who asked; the requester sees it is theirs.
    const mod = await moderator();
    const seen = await api(`/api/requests/search?q=${requested.asin}`, mod);
    expect(seen.body.data.results).toEqual([
      expect.objectContaining({ asin: requested.asin, request: expect.objectContaining({ requested_by: ana.name }) }),
    ]);
    const mine = await api(`/api/requests/search?q=${requested.asin.toLowerCase()}`, ana);
    expect(mine.body.data.results[0].request).toMatchObject({ mine: true, requested_by: ana.name });
  });

  it("answers 502 in the standard error shape when Audible fails, and 422 for a blank query", async () => {
    fakeUpstream(() => json({ message: "Internal error" }, { status: 500 }));
    const api = client();
    const ana = await viewer();
    const failed = await api("/api/requests/search?q=anything", ana);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject(errorShape(502, "external_api_error"));
    expect((await api("/api/requests/search?q=%20", ana)).status).toBe(422);
  });
});

describe("POST /api/requests", () => {
  it("a viewer's request is pending; a second one for the same book is a 409 naming the first", async () => {
    const { list } = catalogue(1);
    fakeAudible(list, []);
    const api = client();
    const ana = await viewer();
    const first = await api("/api/requests", ana, { method: "POST", json: { asin: list[0]!.asin } });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({
      asin: list[0]!.asin,
      title: list[0]!.title,
      status: "pending",
      requested_by: ana.name,
      missing_book_id: null,
    });
    const again = await api("/api/requests", await viewer(), { method: "POST", json: { asin: list[0]!.asin } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject(errorShape(409, "duplicate_resource"));
    expect(again.body.message + (again.body.detail ?? "")).toContain(`request ${first.body.data.id} (pending)`);
    const audit = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.action, "request.created"), eq(auditLogs.resourceId, String(first.body.data.id))));
    expect(audit).toMatchObject([{ actor: ana.name, details: { asin: list[0]!.asin, again: false } }]);
  });

  it("a book already in the library is a 409, unless asked again with a reason", async () => {
    const { author, list } = catalogue(1);
    const book = list[0]!;
    fakeAudible(list, []);
    await db.insert(books).values({ title: book.title, author, asin: book.asin });
    const api = client();
    const ana = await viewer();
    const refused = await api("/api/requests", ana, { method: "POST", json: { asin: book.asin } });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain("already in the library");
    expect((await api("/api/requests", ana, { method: "POST", json: { asin: book.asin, again: true } })).status).toBe(422);
    const ok = await api("/api/requests", ana, { method: "POST", json: { asin: book.asin, again: true, reason: "the copy is broken" } });
    expect(ok.status).toBe(201);
    expect(ok.body.data).toMatchObject({ again: true, reason: "the copy is broken", status: "pending" });
  });

  it("refuses more than REQUESTS_PER_DAY requests in 24 hours with a 429", async () => {
    const { list } = catalogue(3);
    fakeAudible(list, []);
    const api = client({ REQUESTS_PER_DAY: "2" });
    const ana = await viewer();
    for (const book of list.slice(0, 2))
      expect((await api("/api/requests", ana, { method: "POST", json: { asin: book.asin } })).status).toBe(201);
    const over = await api("/api/requests", ana, { method: "POST", json: { asin: list[2]!.asin } });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject(errorShape(429, "too_many_requests"));
    // Another person has their own allowance.
    expect((await api("/api/requests", await viewer(), { method: "POST", json: { asin: list[2]!.asin } })).status).toBe(201);
  });

  it("an unknown ASIN is a 404 and a malformed one a 422", async () => {
    fakeAudible([], []);
    const api = client();
    const ana = await viewer();
    expect((await api("/api/requests", ana, { method: "POST", json: { asin: "B0NOTHERE1" } })).status).toBe(404);
    expect((await api("/api/requests", ana, { method: "POST", json: { asin: "not an asin" } })).status).toBe(422);
  });

  it("approves at once for the roles in REQUESTS_AUTO_APPROVE: the request becomes a wanted book", async () => {
    const { author, list } = catalogue(2);
    fakeAudible(list, []);
    const api = client({ REQUESTS_AUTO_APPROVE: "operator,admin" });
    const mod = await moderator();
    const made = await api("/api/requests", mod, { method: "POST", json: { asin: list[0]!.asin } });
    expect(made.status).toBe(201);
    expect(made.body.data).toMatchObject({ status: "approved", decided_by: mod.name, missing_book_id: expect.any(Number) });
    const [gap] = await db.select().from(missingBooks).where(eq(missingBooks.id, made.body.data.missing_book_id));
    expect(gap).toMatchObject({
      title: list[0]!.title,
      authorName: author,
      asin: list[0]!.asin,
      reasonMissing: "request",
      titleSource: "catalogue",
      bookId: null,
    });
    // A viewer's stays pending.
    expect((await api("/api/requests", await viewer(), { method: "POST", json: { asin: list[1]!.asin } })).body.data.status).toBe(
      "pending",
    );
    // With none, nobody's is.
    const none = client({ REQUESTS_AUTO_APPROVE: "none" });
    const another = catalogue(1);
    fakeAudible(another.list, []);
    expect((await none("/api/requests", operatorKey, { method: "POST", json: { asin: another.list[0]!.asin } })).body.data.status).toBe(
      "pending",
    );
  });
});

describe("deciding and reading requests", () => {
  it("operators approve or deny with a note; viewers cannot; each change is audited", async () => {
    const { list } = catalogue(2);
    fakeAudible(list, []);
    const api = client();
    const ana = await viewer();
    const a = (await api("/api/requests", ana, { method: "POST", json: { asin: list[0]!.asin } })).body.data;
    const b = (await api("/api/requests", ana, { method: "POST", json: { asin: list[1]!.asin } })).body.data;
    expect((await api(`/api/requests/${a.id}/approve`, ana, { method: "POST", json: {} })).status).toBe(403);
    const mod = await moderator();
    const approved = await api(`/api/requests/${a.id}/approve`, mod, { method: "POST", json: { note: "good pick" } });
    expect(approved.status).toBe(200);
    expect(approved.body.data).toMatchObject({ status: "approved", decision_note: "good pick", decided_by: mod.name });
    const denied = await api(`/api/requests/${b.id}/deny`, mod, { method: "POST", json: { note: "we have the paperback" } });
    expect(denied.body.data).toMatchObject({ status: "denied", decision_note: "we have the paperback", missing_book_id: null });
    expect((await api(`/api/requests/${b.id}/approve`, mod, { method: "POST", json: {} })).status).toBe(409);
    const rows = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.resource, "book_request"), eq(auditLogs.actor, mod.name)));
    expect(rows.map((r) => [r.action, r.resourceId])).toEqual([
      ["request.approved", String(a.id)],
      ["request.denied", String(b.id)],
    ]);
    expect(rows[1]!.details).toMatchObject({ from: "pending", to: "denied", note: "we have the paperback" });
  });

  it("two operators deciding at once: one decision stands, one wanted book, one audit row; the other is a 409", async () => {
    const { list } = catalogue(1);
    fakeAudible(list, []);
    const api = client();
    const made = (await api("/api/requests", await viewer(), { method: "POST", json: { asin: list[0]!.asin } })).body.data;
    const [one, two] = [await moderator(), await moderator()];
    const answers = await Promise.all([
      api(`/api/requests/${made.id}/approve`, one, { method: "POST", json: {} }),
      api(`/api/requests/${made.id}/deny`, two, { method: "POST", json: { note: "no" } }),
      api(`/api/requests/${made.id}/approve`, two, { method: "POST", json: {} }),
    ]);
    expect(
      answers.map((a) => a.status).sort(),
      JSON.stringify(answers.map((a) => [a.status, a.body.data?.status, a.body.data?.decided_by, a.body.data?.decided_at, a.body.detail])),
    ).toEqual([200, 409, 409]);
    const winner = answers.find((a) => a.status === 200)!.body.data;
    const gaps = await db.select().from(missingBooks).where(eq(missingBooks.asin, list[0]!.asin));
    expect(gaps).toHaveLength(winner.status === "approved" ? 1 : 0);
    if (winner.status === "approved") expect(winner.missing_book_id).toBe(gaps[0]!.id);
    const audit = await db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.resource, "book_request"), eq(auditLogs.resourceId, String(made.id))));
    expect(audit.map((r) => r.action).sort()).toEqual(["request.created", `request.${winner.status}`]);
  });

  it("requesters see their own requests, operators all of them", async () => {
    const { list } = catalogue(2);
    fakeAudible(list, []);
    const api = client();
    const ana = await viewer();
    const bob = await viewer();
    const mine = (await api("/api/requests", ana, { method: "POST", json: { asin: list[0]!.asin } })).body.data;
    const his = (await api("/api/requests", bob, { method: "POST", json: { asin: list[1]!.asin } })).body.data;
    const listed = await api("/api/requests", ana);
    expect(listed.body.data.requests.map((r: any) => r.id)).toEqual([mine.id]);
    expect((await api(`/api/requests/${his.id}`, ana)).status).toBe(404);
    expect((await api(`/api/requests/${mine.id}`, ana)).body.data).toMatchObject({ id: mine.id, requested_by: ana.name });
    const all = await api("/api/requests?status=pending&limit=500", operatorKey);
    const ids = all.body.data.requests.map((r: any) => r.id);
    expect(ids).toEqual(expect.arrayContaining([mine.id, his.id]));
    expect((await db.select().from(bookRequests).where(eq(bookRequests.id, his.id)))[0]!.requestedBy).toBe(bob.name);
  });
});

describe("one book wanted once: a request and gap analysis never both search for it", () => {
  /** A series of 5 with books 1 and 2 in the library, and book 3 in the catalogue. */
  async function sagaMissingThree() {
    const name = unique("Saga");
    const created = await createSeries({ name, total_books_in_series: 5, author: "Ana Teller" });
    for (const n of ["1", "2"]) await createBook({ series: name, series_number: n, author: "Ana Teller" });
    const third: FakeBook = {
      asin: asin(),
      title: `${unique("Third")} Tide`,
      author: "Ana Teller",
      series: [{ asin: asin(), sequence: "3" }],
    };
    fakeAudible([third], [{ asin: third.series![0]!.asin, title: name }]);
    return { id: created.series_id, name, third };
  }
  const analyze = async () => expect((await client()("/api/gaps/analyze", operatorKey, { method: "POST" })).status).toBe(200);
  const gapsAt = (seriesName: string) =>
    db
      .select()
      .from(missingBooks)
      .where(and(eq(missingBooks.seriesName, seriesName), eq(missingBooks.seriesNumber, "3")));

  it("approving a request joins the series gap already at its place, which takes the request's title and ASIN", async () => {
    const saga = await sagaMissingThree();
    await analyze();
    const [placeholder] = await gapsAt(saga.name);
    expect(placeholder).toMatchObject({ reasonMissing: "series_gap", title: `${saga.name} #3`, titleSource: "library" });

    const api = client();
    const made = (await api("/api/requests", await viewer(), { method: "POST", json: { asin: saga.third.asin } })).body.data;
    const approved = await api(`/api/requests/${made.id}/approve`, await moderator(), { method: "POST", json: {} });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.data.missing_book_id).toBe(placeholder!.id);
    expect(await gapsAt(saga.name)).toEqual([
      expect.objectContaining({ id: placeholder!.id, title: saga.third.title, asin: saga.third.asin, titleSource: "catalogue" }),
    ]);
  });

  it("gap analysis adds no series gap at a place an approved request already wants, and still finds the others", async () => {
    const saga = await sagaMissingThree();
    const api = client();
    const made = (await api("/api/requests", await viewer(), { method: "POST", json: { asin: saga.third.asin } })).body.data;
    expect((await api(`/api/requests/${made.id}/approve`, await moderator(), { method: "POST", json: {} })).status).toBe(200);
    await analyze();
    expect((await gapsAt(saga.name)).map((g) => g.reasonMissing)).toEqual(["request"]);
    const seriesGaps = await db
      .select()
      .from(missingBooks)
      .where(and(eq(missingBooks.seriesId, saga.id), eq(missingBooks.reasonMissing, "series_gap")));
    expect(seriesGaps.map((g) => g.seriesNumber).sort()).toEqual(["4", "5"]);
  });
});
