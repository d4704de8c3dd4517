import * as core from "./zod-core-without-locales";

/** Every export of "zod/v4" but its locales, as src/lib/zod-without-locales.ts's `z`. */
export * from "zod/v4";
export { core };
export const locales = {};
// "zod/v4" also exports `z`, the namespace with every locale: not this one's member.
export const z = undefined;
