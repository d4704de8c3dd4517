import { z } from "zod";

// Field shapes shared by the catalogue's request bodies.

/** A required name: trimmed, 1..500 characters. */
export const name = z.string().trim().min(1).max(500);

/** An optional text of at most `max` characters, trimmed; blank or null stores no value. */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((value) => value || null)
    .nullable()
    .optional();

/** A known total of books: a whole number 1..100000, or null when unknown. */
export const knownTotal = z.number().int().min(1).max(100_000).nullable().optional();

/** For update bodies, which must send at least one field. */
export function hasSomeField(body: Record<string, unknown>): boolean {
  return Object.values(body).some((value) => value !== undefined);
}

/**
 * For bodies that accept the original's alternative names of one field (`total_books` for
 * `total_books_in_series`): refuses a body that sends more than one of them...
 */
export function atMostOneOf(fields: readonly string[]) {
  return (body: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const given = fields.filter((field) => body[field] !== undefined);
    if (given.length > 1) ctx.addIssue({ code: "custom", path: [given[1]!], message: `Send only one of ${given.join(", ")}` });
  };
}

/** ...and folds the alternatives into the canonical name, so services see one field. */
export function foldAliases<T extends Record<string, unknown>, A extends keyof T & string>(
  body: T,
  canonical: keyof T & string,
  aliases: readonly A[],
): Omit<T, A> {
  const folded: Record<string, unknown> = { ...body };
  for (const alias of aliases) {
    if (folded[canonical] === undefined) folded[canonical] = folded[alias];
    delete folded[alias];
  }
  return folded as Omit<T, A>;
}
