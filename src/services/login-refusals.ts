import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { upstreamLoginRefusals } from "../db/schema";
import type { LoginRefusals } from "../integrations/qbittorrent";

/**
 * Refused logins to an outside service, kept in D1 (upstream_login_refusals) so that every isolate
 * of the Worker knows of one: qBittorrent bans the address after five, and through a tunnel all
 * isolates share one address. Keys are hashes (src/integrations/qbittorrent.ts); nothing secret is stored.
 */
export function d1LoginRefusals(db: Database): LoginRefusals {
  return {
    async get(key) {
      const row = await db.select().from(upstreamLoginRefusals).where(eq(upstreamLoginRefusals.loginKey, key)).get();
      return row ? { at: Date.parse(row.refusedAt), detail: row.detail, upstreamStatus: row.upstreamStatus ?? 0 } : undefined;
    },
    async set(key, refusal) {
      const values = { refusedAt: new Date(refusal.at).toISOString(), detail: refusal.detail, upstreamStatus: refusal.upstreamStatus };
      await db
        .insert(upstreamLoginRefusals)
        .values({ loginKey: key, ...values })
        .onConflictDoUpdate({ target: upstreamLoginRefusals.loginKey, set: values });
    },
    async clear(key) {
      await db.delete(upstreamLoginRefusals).where(eq(upstreamLoginRefusals.loginKey, key));
    },
  };
}
