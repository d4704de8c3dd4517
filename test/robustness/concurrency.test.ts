import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createBook, createUser, unique } from "../fixtures";
import { call } from "../helpers";
import { api } from "../library";
import { assertErrorBody } from "./support";

// Many requests at once against one row or one unique key, through the Worker as deployed: the
// database decides every race, so the answers are exactly one winner and clean 409s, never a 5xx
// and never a second row. (mark-failed under concurrency: test/routes/downloads.test.ts.)

const PARALLEL = 50;

interface Answer {
  status: number;
  body: Record<string, any>;
}

async function post(path: string, json: (i: number) => unknown): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: PARALLEL }, async (_, i) => {
      const res = await call(path, { method: "POST", auth: true, json: json(i) });
      return { status: res.status, body: await res.json<Record<string, any>>() };
    }),
  );
}

/** One 201, the rest 409 duplicate_resource in the standard error shape. */
function expectOneWinner(answers: Answer[]) {
  const statuses = answers.map((a) => a.status);
  const summary = JSON.stringify(Object.fromEntries([...new Set(statuses)].map((s) => [s, answers.find((a) => a.status === s)!.body])));
  expect(
    statuses.filter((s) => s === 201),
    summary,
  ).toHaveLength(1);
  expect(
    statuses.filter((s) => s === 409),
    summary,
  ).toHaveLength(PARALLEL - 1);
  for (const a of answers.filter((a) => a.status === 409)) {
    assertErrorBody(a.body, 409);
    expect(a.body.error).toBe("duplicate_resource");
  }
}

async function countRows(sql: string, ...binds: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;
}

// 50 parallel requests can take over vitest's default 5 s on a loaded 2-core machine (seen in a
// landing run while three suites ran at once): the property is correctness, not speed.
describe(`${PARALLEL} parallel creates of one unique key`, { timeout: 30_000 }, () => {
  it("books: one abs_id, one book", async () => {
    const absId = unique("abs");
    expectOneWinner(await post("/api/books", (i) => ({ title: `Racer ${i}`, abs_id: absId })));
    expect(await countRows("SELECT count(*) AS n FROM books WHERE abs_id = ?", absId)).toBe(1);
  });

  it("series: one name (in any case and spacing), one series", async () => {
    const name = unique("Series");
    const variants = [name, name.toUpperCase(), name.toLowerCase(), `  ${name}  `];
    expectOneWinner(await post("/api/series", (i) => ({ name: variants[i % variants.length] })));
    expect(await countRows("SELECT count(*) AS n FROM series WHERE lower(name) = lower(?)", name)).toBe(1);
  });

  it("authors: one name (in any case and spacing), one author", async () => {
    const name = unique("Author");
    const variants = [name, name.toUpperCase(), name.toLowerCase(), `  ${name}  `];
    expectOneWinner(await post("/api/authors", (i) => ({ name: variants[i % variants.length] })));
    expect(await countRows("SELECT count(*) AS n FROM authors WHERE lower(name) = lower(?)", name)).toBe(1);
  });

  it("admin users: one username, one user (and one audit row)", { timeout: 30_000 }, async () => {
    const username = unique("racer").replace(/-/g, "_");
    expectOneWinner(
      await post("/api/admin/users", (i) => ({
        username,
        email: `${username}.${i}@example.test`,
        password: "a-long-password-123",
        role: "viewer",
      })),
    );
    expect(await countRows("SELECT count(*) AS n FROM users WHERE username = ?", username)).toBe(1);
    expect(
      await countRows(
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'create' AND resource = 'user' AND details ->> 'username' = ?",
        username,
      ),
    ).toBe(1);
  });

  it("admin users: one email, one user", { timeout: 30_000 }, async () => {
    const email = `${unique("racer")}@example.test`;
    expectOneWinner(
      await post("/api/admin/users", (i) => ({ username: unique(`racer${i}`).replace(/-/g, "_"), email, password: "a-long-password-123" })),
    );
    expect(await countRows("SELECT count(*) AS n FROM users WHERE email = ?", email)).toBe(1);
  });

  it("downloads: one magnet link while active, one download", async () => {
    const magnet = `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "")}`;
    expectOneWinner(await post("/api/downloads", (i) => ({ title: `Racer ${i}`, source: "MAM", magnet_link: magnet })));
    expect(await countRows("SELECT count(*) AS n FROM downloads WHERE magnet_link = ?", magnet)).toBe(1);
  });

  it("api keys: one active name, one key", async () => {
    const name = unique("key");
    expectOneWinner(await post("/api/admin/api-keys", () => ({ name, role: "viewer" })));
    expect(await countRows("SELECT count(*) AS n FROM api_keys WHERE name = ? AND revoked_at IS NULL", name)).toBe(1);
  });
});

describe("parallel updates of one row", { timeout: 30_000 }, () => {
  it("books: each request changes a different field, and no change is lost (nor the completeness they add up to)", async () => {
    const { book_id } = await createBook({ title: unique("Racer") });
    const changes: Record<string, unknown> = {
      title: unique("New title"),
      author: "Parallel Author",
      series: "Parallel Series",
      series_number: "7",
      isbn: "9780765326355",
      asin: "B00PARALLEL",
      publisher: "Parallel House",
      published_year: 2001,
      duration_minutes: 613,
      description: "Written by ten requests at once.",
      narrator: "Parallel Narrator",
    };
    const answers = await Promise.all(
      Object.entries(changes).map(([field, value]) => api(`/api/books/${book_id}`, { method: "PUT", json: { [field]: value } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Object.keys(changes).map(() => 200));
    const { body } = await api(`/api/books/${book_id}`);
    expect(body.data).toMatchObject(changes);
    // Every metadata field is now filled: the stored completeness must say so.
    expect(body.data.metadata_completeness_percent).toBe(100);
    // One correction row per change, each recorded once.
    const { body: history } = await api(`/api/books/${book_id}/metadata-history`);
    expect(history.data.corrections.map((c: { field_name: string }) => c.field_name).sort()).toEqual(Object.keys(changes).sort());
  });

  it("books: parallel metadata-source updates of different fields all stick", async () => {
    const { book_id } = await createBook({ title: unique("Racer") });
    const fields = ["title", "author", "series", "isbn", "asin", "publisher", "description"];
    const answers = await Promise.all(
      fields.map((field_name) =>
        api(`/api/books/${book_id}/metadata-source`, { method: "PUT", json: { field_name, source: `src-${field_name}` } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(fields.map(() => 200));
    const { body } = await api(`/api/books/${book_id}`);
    expect(body.data.metadata_source).toEqual(Object.fromEntries(fields.map((f) => [f, `src-${f}`])));
  });

  it("admin users: demoting, disabling and deleting every admin at once leaves exactly one active admin", { timeout: 30_000 }, async () => {
    await Promise.all(Array.from({ length: 9 }, () => createUser("admin")));
    const active = async () =>
      (await env.DB.prepare("SELECT id FROM users WHERE role = 'admin' AND is_active").all<{ id: number }>()).results.map((r) => r.id);
    // Every active admin (any another test left too), each removed in one of three ways, all at once.
    const ids = await active();
    const removals = [
      (id: number) => api(`/api/admin/users/${id}`, { method: "PUT", json: { role: "viewer" } }),
      (id: number) => api(`/api/admin/users/${id}`, { method: "PUT", json: { is_active: false } }),
      (id: number) => api(`/api/admin/users/${id}`, { method: "DELETE" }),
    ];
    const answers = await Promise.all(ids.map((id, i) => removals[i % removals.length]!(id)));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(ids.length - 1).fill(200), 409]);
    const refused = answers.find((a) => a.status === 409)!;
    assertErrorBody(refused.body, 409);
    expect(refused.body.detail).toMatch(/last active admin/);
    expect(await active()).toHaveLength(1);
  });

  it(`downloads: ${PARALLEL} parallel mark-failed calls each count once`, async () => {
    const created = await api("/api/downloads", {
      method: "POST",
      json: { title: unique("dl"), source: "MAM", magnet_link: `magnet:?xt=urn:btih:${crypto.randomUUID().replaceAll("-", "")}` },
    });
    const id = created.body.data.download_id as number;
    await env.DB.prepare("UPDATE downloads SET max_retries = ? WHERE id = ?")
      .bind(PARALLEL + 1, id)
      .run();
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () => api(`/api/downloads/${id}/mark-failed`, { method: "PUT", json: { error_msg: "no seeders" } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(PARALLEL).fill(200));
    expect((await api(`/api/downloads/${id}`)).body.data).toMatchObject({ retry_count: PARALLEL, status: "failed" });
  });
});
