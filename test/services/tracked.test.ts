import { describe, expect, it } from "vitest";
import { createAuthor, createSeries, unique } from "../fixtures";
import { errorShape } from "../helpers";
import { api } from "../library";

// The rules series and authors share (src/services/tracked.ts), for the cases neither route's own
// tests reach: renames that race for one name, and the 409 naming the row that holds the name.
const KINDS = [
  { path: "/api/series", idKey: "series_id", label: "Series", create: (name: string) => createSeries({ name }) },
  { path: "/api/authors", idKey: "author_id", label: "Author", create: (name: string) => createAuthor({ name }) },
] as const;

describe.each(KINDS)("$path: shared naming rules", ({ path, idKey, label, create }) => {
  it("answers 409, never 500, when several rows are renamed to one new name at once (the unique index decides)", async () => {
    const rows = await Promise.all(Array.from({ length: 4 }, () => create(unique("before"))));
    const name = unique("after");
    const answers = await Promise.all(
      rows.map((row, i) => api(`${path}/${row[idKey]}`, { method: "PUT", json: { name: i % 2 ? name.toUpperCase() : name } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
    for (const a of answers.filter((a) => a.status === 409)) expect(a.body).toMatchObject(errorShape(409, "duplicate_resource"));
    const winner = answers.find((a) => a.status === 200)!;
    expect(winner.body.data).toMatchObject({ name: expect.stringMatching(new RegExp(`^${name}$`, "i")), changes_made: { name: {} } });
  });

  it("names the row that holds the name in the 409 (outside production)", async () => {
    const name = unique("held");
    const held = await create(name);
    const other = await create(unique("other"));
    for (const [method, target] of [
      ["POST", path],
      ["PUT", `${path}/${other[idKey]}`],
    ] as const) {
      const { status, body } = await api(target, { method, json: { name: name.toUpperCase() } });
      expect(status, method).toBe(409);
      expect(body).toMatchObject({ detail: `${label} '${name}' already exists`, context: { [idKey]: held[idKey] } });
    }
  });
});
