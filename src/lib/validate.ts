import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import { z } from "zod";
import { type FieldError, ValidationError } from "../errors";

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
 * `@hono/zod-validator` with the contract's failure: a 422 `validation_error` listing every
 * problem, thrown so that `app.onError` renders it like every other error.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) throw new ValidationError(fieldErrors(target, result.error.issues));
  });
  // The OpenAPI document reads the schema back from the route's handlers: one source for both.
  return Object.assign(middleware, { [VALIDATES]: { target, schema } as ValidatedPart });
}

/** What a `validate` middleware checks, found on it under this key. */
export const VALIDATES = Symbol("validates");
export interface ValidatedPart {
  target: keyof ValidationTargets;
  schema: z.ZodType;
}

/** `/:id` of every resource: a positive integer. */
export const idParam = z.object({ id: z.coerce.number().int().positive() });
