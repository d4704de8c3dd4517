/** `z.core` without `core.locales`: see src/lib/zod-without-locales.ts. */
export * from "zod/v4/core";
export const locales = {};
