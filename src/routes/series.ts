import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { COMPLETION_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, hasSomeField, knownTotal, name, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam, validate } from "../lib/validate";
import * as service from "../services/series";

/**
 * The original named the known total `total_books` on create and `total_books_in_series` on
 * update; both are accepted on both, one at a time, and answered as `total_books_in_series`.
 */
const fields = {
  author: optionalText(500),
  goodreads_id: optionalText(255),
  hardcover_id: optionalText(255),
  total_books: knownTotal,
  total_books_in_series: knownTotal,
};

const TOTAL = ["total_books_in_series", "total_books"] as const;

const createBody = z
  .strictObject({ name, ...fields })
  .superRefine(atMostOneOf(TOTAL))
  .transform((body) => foldAliases(body, "total_books_in_series", ["total_books"]));

const updateBody = z
  .strictObject({ name: name.optional(), ...fields })
  .refine(hasSomeField, "Send at least one field to change")
  .superRefine(atMostOneOf(TOTAL))
  .transform((body) => foldAliases(body, "total_books_in_series", ["total_books"]));

const listQuery = pageQuery.extend({ completion_status: z.enum(COMPLETION_STATUSES).optional() });

const percent = decimalInt(z.number().min(0).max(100));
const incompleteQuery = z
  .object({
    min_completion: percent.default(0),
    max_completion: percent.default(99),
    limit: decimalInt(z.number().min(1).max(500)).default(100),
  })
  .refine((q) => q.min_completion <= q.max_completion, {
    message: "min_completion must not exceed max_completion",
    path: ["min_completion"],
  });

/** `/api/series` (reference 2.4). Static paths come before `/:id`. */
export const series = new Hono<AppEnv>();

series.get("/", validate("query", listQuery), async (c) => ok(c, await service.listSeries(database(c), c.req.valid("query"))));

series.get("/completion-summary", async (c) => ok(c, await service.seriesCompletionSummary(database(c))));

series.get("/incomplete", validate("query", incompleteQuery), async (c) =>
  ok(c, await service.incompleteSeries(database(c), c.req.valid("query"))),
);

series.post("/", validate("json", createBody), async (c) => created(c, await service.createSeries(database(c), c.req.valid("json"))));

series.get("/:id", validate("param", idParam), async (c) => ok(c, await service.getSeries(database(c), c.req.valid("param").id)));

series.put("/:id", validate("param", idParam), validate("json", updateBody), async (c) =>
  ok(c, await service.updateSeries(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

series.delete("/:id", validate("param", idParam), async (c) => ok(c, await service.deleteSeries(database(c), c.req.valid("param").id)));

series.get("/:id/completion", validate("param", idParam), async (c) =>
  ok(c, await service.seriesCompletion(database(c), c.req.valid("param").id)),
);

series.put("/:id/recalculate-completion", validate("param", idParam), async (c) =>
  ok(c, await service.recalculateSeries(database(c), c.req.valid("param").id)),
);
