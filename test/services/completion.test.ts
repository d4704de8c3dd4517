import { describe, expect, it } from "vitest";
import { createBook, createSeries, unique } from "../fixtures";
import { call } from "../helpers";

describe("completion names", () => {
  it("match a non-ASCII series name (compared by SQLite on both sides)", async () => {
    const name = `Émile ${unique("cycle")}`;
    const { series_id } = await createSeries({ name, total_books: 2 });
    await createBook({ series: name });
    const res = await call(`/api/series/${series_id}/completion`, { auth: true });
    expect(await res.json()).toMatchObject({
      data: { books_owned: 1, books_missing: 1, completion_percentage: 50, completion_status: "partial" },
    });
  });

  it("recompute any number of names in one import", async () => {
    const names = Array.from({ length: 150 }, () => unique("s"));
    for (const name of names.slice(0, 3)) await createSeries({ name, total_books: 1 });
    const rows = names.map((name, i) => ({ abs_id: unique(`abs${i}`), title: unique("t"), series: name }));
    const res = await call("/api/books/import", { method: "POST", auth: true, json: rows });
    expect(res.status).toBe(200);
    const list = await (await call(`/api/series?limit=500&completion_status=complete`, { auth: true })).json<{
      data: { series: { name: string }[] };
    }>();
    expect(list.data.series.map((s) => s.name)).toEqual(expect.arrayContaining(names.slice(0, 3)));
  });
});
