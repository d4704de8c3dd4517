import type { Config } from "./config";
import type { Database } from "./db/client";
import type { RoutePolicy } from "./route-policy";

/** Who is calling, as established by the auth middleware. */
export type Identity =
  | { kind: "operator" }
  | {
      kind: "user";
      userId: number;
      username: string;
      role: "admin" | "moderator" | "viewer";
      tokenId: string;
      expiresAt: number;
      sessionStartedAt: number;
    }
  | { kind: "api_key"; keyId: number; name: string; role: "viewer" | "operator" };

/**
 * The Hono environment of this app: bindings from wrangler.toml, request state from middleware.
 * The middleware every request runs reads its state with `c.get(name)`: Hono's `c.var` copies
 * every variable into a new object on each read.
 */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** The matched route's policy; absent for paths that match no route. */
    policy: RoutePolicy | undefined;
    identity: Identity | undefined;
    /** Opens (once) the request's one D1 session and answers its drizzle client (src/middleware/d1-session.ts). */
    db: (() => Database) | undefined;
  };
}
