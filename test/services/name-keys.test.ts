import { env } from "cloudflare:workers";
import { inArray } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { authors, series } from "../../src/db/schema";
import { nameKey } from "../../src/lib/name-key";
import { incompleteKeys } from "../../src/services/name-keys";
import { withEnv } from "../helpers";
import { ABS_TOKEN, ABS_URL, absItem, fakeAbs } from "../integrations/fake-abs";

const db = primaryDatabase(env);
const app = withEnv({ ABS_URL, ABS_TOKEN });
const post = async (path: string, json?: unknown) => {
  const res = await app(path, { method: "POST", auth: true, ...(json === undefined ? {} : { json }) });
  return { status: res.status, body: (await res.json()) as any };
};

afterEach(() => vi.restoreAllMocks());

describe("name keys migration 0011 could only partly compute (issue 23)", () => {
  it("are completed to the key the application computes, a look-alike pair kept apart by ' #<id>', and a complete key left alone", () => {
    expect(
      incompleteKeys([
        { id: 1, name: "Dune Saga", name_key: "dune saga" },
        // 0011: SQL's lower() leaves fullwidth letters and the Cyrillic е as they are.
        { id: 2, name: "Ｆｏｕｎｄａｔｉｏｎ", name_key: "ｆｏｕｎｄａｔｉｏｎ" },
        { id: 3, name: "Dun\u0435 Saga", name_key: "dun\u0435 saga" },
        { id: 4, name: "Dune\u00a0Saga", name_key: "dune saga #4" },
        { id: 5, name: "Foundation", name_key: "foundation" },
        { id: 6, name: "Hyperion", name_key: null },
      ]),
    ).toEqual([
      // Row 5 holds "foundation" already: the fullwidth one is its look-alike, kept apart.
      { id: 2, key: "foundation #2" },
      { id: 3, key: "dune saga #3" },
      { id: 6, key: "hyperion" },
    ]);
    expect(nameKey("Ｆｏｕｎｄａｔｉｏｎ")).toBe("foundation");
  });

  it("are completed by the next library sync, after which a look-alike of an old row is refused (409)", async () => {
    const old = await db
      .insert(series)
      .values([
        { name: "Ｔｈｅ Ｅｘｐａｎｓｅ", nameKey: "ｔｈｅ ｅｘｐａｎｓｅ" },
        { name: "Discw\u043erld", nameKey: "discw\u043erld" },
      ])
      .returning();
    const [author] = await db.insert(authors).values({ name: "Ｔｅｒｒｙ Pratchett", nameKey: "ｔｅｒｒｙ pratchett" }).returning();

    fakeAbs([
      { id: "lib_books", items: [absItem("li_names_1", { title: "A Book", authorName: "Someone Else", seriesName: "Other Saga #1" })] },
    ]);
    const synced = await post("/api/library/sync");
    expect(synced.status, JSON.stringify(synced.body)).toBe(200);
    const keys = await db
      .select({ id: series.id, key: series.nameKey })
      .from(series)
      .where(
        inArray(
          series.id,
          old.map((row) => row.id),
        ),
      );
    expect(keys.map((row) => row.key).sort()).toEqual(["discworld", "the expanse"]);
    expect(
      (
        await db
          .select({ key: authors.nameKey })
          .from(authors)
          .where(inArray(authors.id, [author!.id]))
      )[0]?.key,
    ).toBe("terry pratchett");

    for (const name of ["The Expanse", "the  expanse", "Discworld"]) {
      expect((await post("/api/series", { name })).status, name).toBe(409);
    }
    expect((await post("/api/authors", { name: "Terry Pratchett" })).status).toBe(409);
  });
});
