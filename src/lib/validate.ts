import type { ValidationTargets } from "hono";
import { z } from "zod";
import type { FieldError } from "../errors";

/** How each request part is named in `errors[].path`, e.g. "body.title", "query.limit". */
const PREFIX: Record<keyof ValidationTargets, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
};

export function fieldErrors(target: keyof ValidationTargets, issues: z.core.$ZodIssue[]): FieldError[] {
  return issues.map((issue) => ({
    path: [PREFIX[target], ...issue.path.map(String)].join("."),
    message: issue.message,
    code: issue.code,
  }));
}

/**
 * Control characters no text of this service carries (NUL breaks D1's string binding). A body's
 * text may hold tabs and line breaks (descriptions); a path, query or header value may not.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job
export const BODY_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job
export const LINE_CONTROLS = /[\u0000-\u001f\u007f]/;

/** Every string (and object key) in a request part that holds a forbidden control character. */
function controlCharacterIssues(value: unknown, pattern: RegExp, path: PropertyKey[], ctx: z.RefinementCtx, depth = 0): void {
  if (typeof value === "string") {
    if (pattern.test(value)) ctx.addIssue({ code: "custom", path, message: "Control characters are not allowed" });
  } else if (Array.isArray(value) && depth < 64) {
    for (const [index, item] of value.entries()) controlCharacterIssues(item, pattern, [...path, index], ctx, depth + 1);
  } else if (value !== null && typeof value === "object" && depth < 64) {
    for (const [key, item] of Object.entries(value)) {
      if (pattern.test(key)) ctx.addIssue({ code: "custom", path: [...path, key], message: "Control characters are not allowed" });
      else controlCharacterIssues(item, pattern, [...path, key], ctx, depth + 1);
    }
  }
}

/** The control characters in a path's or query's raw values (and names), as field errors. */
export function lineControlErrors(target: "param" | "query", value: Record<string, unknown>): FieldError[] {
  const issues: z.core.$ZodIssue[] = [];
  const ctx = {
    addIssue: (issue: { path: PropertyKey[]; message: string }) =>
      issues.push({ ...issue, code: "custom", input: undefined } as z.core.$ZodIssue),
  };
  controlCharacterIssues(value, LINE_CONTROLS, [], ctx as unknown as z.RefinementCtx);
  return fieldErrors(target, issues);
}

/**
 * `schema`, after a check that the raw input holds no control characters (422 before any use).
 * A preprocess step that adds issues stops the pipe, so the check runs alone; the OpenAPI
 * generator documents a preprocessed schema as the schema itself.
 */
export function withoutControlCharacters<Schema extends z.ZodType>(target: keyof ValidationTargets, schema: Schema): Schema {
  const pattern = target === "json" || target === "form" ? BODY_CONTROLS : LINE_CONTROLS;
  return z.preprocess((value, ctx) => {
    controlCharacterIssues(value, pattern, [], ctx);
    return value;
  }, schema) as unknown as Schema;
}

const DECIMAL = /^\d{1,15}$/;

/**
 * A whole number from a path or query string, written in decimal digits only: "0x10", "1e2",
 * " 1 " or "+5" are refused (Number() would read them), not coerced. Bounds go on `schema`.
 */
export function decimalInt(schema: z.ZodNumber) {
  return z.preprocess((value, ctx) => {
    if (typeof value !== "string") return value;
    if (DECIMAL.test(value)) return Number(value);
    ctx.addIssue({ code: "invalid_type", expected: "number", message: "Send a whole number in decimal digits (0-9) only", input: value });
    return z.NEVER;
  }, schema.int());
}

/** `/:id` of every resource: a positive integer. */
export const idParam = z.object({ id: decimalInt(z.number().positive()) });
