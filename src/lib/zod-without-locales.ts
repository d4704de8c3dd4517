/**
 * zod for the deployed bundle, without its 40-odd message translations (about 340 KiB of the
 * bundle, compiled at every cold start). @hono/zod-openapi passes the whole `z` namespace as a
 * value, which makes a bundler keep every export of zod, `z.locales` and `z.core.locales`
 * included. wrangler.toml aliases "zod" to this module for `wrangler dev` and `deploy`: the same
 * exports, with both `locales` empty. Messages stay English (zod's default, set by its own
 * classic/schemas module), and nothing here reads another locale.
 */
import * as z from "./zod-exports";

export * from "./zod-exports";
export { z };
