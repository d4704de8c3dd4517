import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors";

const codes = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/**
 * A stored time: ISO 8601 UTC with milliseconds. Here, not beside the table vocabularies of
 * ./common.ts, so the routes built at startup (health, meta) load no table definitions.
 */
export const timestamp = z.iso.datetime();

/** The error body every failure has (src/errors/render.ts), as a schema: documented, and checked by the tests. */
export const errorSchema = z
  .strictObject({
    success: z.literal(false),
    error: z.enum(codes),
    code: z.string().regex(/^[A-Z_]+$/),
    message: z.string(),
    status_code: z.number().int().min(400).max(599),
    detail: z.string().nullable(),
    timestamp: z.iso.datetime(),
    request_id: z.string(),
    errors: z.array(z.strictObject({ path: z.string(), message: z.string(), code: z.string() })).optional(),
    context: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ description: "Every failure. `errors` on 422 only; `context` never in production." });
