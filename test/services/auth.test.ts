import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { primaryDatabase } from "../../src/db/client";
import { apiKeys } from "../../src/db/schema";
import { touchApiKey } from "../../src/services/auth";
import { call } from "../helpers";

const db = primaryDatabase(env);
afterEach(() => vi.useRealTimers());

describe("a named key's last use", () => {
  it("is written at most once a minute: not within 60 seconds of the last write, again from the 60th second", async () => {
    const res = await call("/api/admin/api-keys", {
      method: "POST",
      auth: true,
      json: { name: `touch-${crypto.randomUUID()}`, role: "viewer" },
    });
    const { id } = (await res.json<{ data: { api_key: { id: number } } }>()).data.api_key;
    const at = Date.UTC(2031, 0, 1, 12);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(at);
    await touchApiKey(db, { id, lastUsedAt: null });
    const lastUsedAt = new Date(at).toISOString();
    const stored = async () => (await db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, id)).get())?.at;
    expect(await stored()).toBe(lastUsedAt);

    vi.setSystemTime(at + 59_999);
    expect(touchApiKey(db, { id, lastUsedAt })).toBeUndefined();
    vi.setSystemTime(at + 60_000);
    await touchApiKey(db, { id, lastUsedAt });
    expect(await stored()).toBe(new Date(at + 60_000).toISOString());
  });
});
