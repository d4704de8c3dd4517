import { z } from "zod";
import { BOOK_STATUSES, COMPLETION_STATUSES } from "../db/schema";

// Shapes shared by several areas' answers.

export { timestamp } from "./schemas";

export const completionStatus = z.enum(COMPLETION_STATUSES).nullable();
export const bookStatus = z.enum(BOOK_STATUSES);

/** `changes_made` of an update: each changed field's old and new value. */
export const changes = z.record(z.string(), z.strictObject({ old: z.unknown(), new: z.unknown() }));

/** An answer that only confirms, e.g. a delete. */
export const message = (id: string) => z.strictObject({ [id]: z.number().int(), message: z.string() });
