import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { database } from "../db/client";
import { COMPLETION_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, hasSomeField, knownTotal, name, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import * as service from "../services/series";
import * as schemas from "./series.schemas";

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

/** `/api/series`. Static paths come before `/{id}`. */
export const series = router();

const tags = ["series"];
const notFound = errors({ 404: "No series has this id" });
const duplicate = errors({ 409: "Another series already has this name (names are unique ignoring case)" });

series.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List series",
    description: "A page of the tracked series, closest to complete first, optionally only those with one completion status.",
    request: { query: listQuery },
    responses: { 200: success(schemas.seriesPage, "A page of series") },
  }),
  async (c) => ok(c, await service.listSeries(database(c), c.req.valid("query"))),
);

series.openapi(
  createRoute({
    method: "get",
    path: "/completion-summary",
    tags,
    summary: "Completion summary of all series",
    description: "How many series are complete, partial and incomplete, the average completion and the books owned and missing.",
    responses: { 200: success(schemas.seriesSummary, "Counts and totals over every series") },
  }),
  async (c) => ok(c, await service.seriesCompletionSummary(database(c))),
);

series.openapi(
  createRoute({
    method: "get",
    path: "/incomplete",
    tags,
    summary: "Series within a completion range",
    description:
      "Series whose stored completion lies between min_completion and max_completion percent (default 0-99), closest to complete first.",
    request: { query: incompleteQuery },
    responses: { 200: success(schemas.incompleteSeriesSchema, "The matching series and how many there are") },
  }),
  async (c) => ok(c, await service.incompleteSeries(database(c), c.req.valid("query"))),
);

series.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Track a series",
    description: "Adds a series. Its completion is computed at once from the owned books of the same name.",
    request: { body: jsonBody(createBody) },
    responses: { 201: success(schemas.seriesWritten, "The series as stored"), ...duplicate },
  }),
  async (c) => created(c, await service.createSeries(database(c), c.req.valid("json"))),
);

series.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a series with its books",
    description: "The series and its active books, in series order.",
    request: { params: idParam },
    responses: { 200: success(schemas.seriesDetail, "The series and its books"), ...notFound },
  }),
  async (c) => ok(c, await service.getSeries(database(c), c.req.valid("param").id)),
);

series.openapi(
  createRoute({
    method: "put",
    path: "/{id}",
    tags,
    summary: "Change a series",
    description: "Writes the fields sent that differ from the stored ones and answers what changed; a change recomputes the completion.",
    request: { params: idParam, body: jsonBody(updateBody) },
    responses: { 200: success(schemas.seriesUpdated, "The series as stored, with changes_made"), ...notFound, ...duplicate },
  }),
  async (c) => ok(c, await service.updateSeries(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

series.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Stop tracking a series",
    description: "Deletes the series and its recorded gaps. Its books stay in the catalogue.",
    request: { params: idParam },
    responses: { 200: success(schemas.seriesDeleted, "Which series was deleted"), ...notFound },
  }),
  async (c) => ok(c, await service.deleteSeries(database(c), c.req.valid("param").id)),
);

series.openapi(
  createRoute({
    method: "get",
    path: "/{id}/completion",
    tags,
    summary: "Stored completion of a series",
    description: "The completion as last computed, without recomputing it.",
    request: { params: idParam },
    responses: { 200: success(schemas.seriesCompletionSchema, "The series' completion"), ...notFound },
  }),
  async (c) => ok(c, await service.seriesCompletion(database(c), c.req.valid("param").id)),
);

series.openapi(
  createRoute({
    method: "put",
    path: "/{id}/recalculate-completion",
    tags,
    summary: "Recompute a series' completion",
    description: "Counts the owned books again and stores the completion; answers the new figures.",
    request: { params: idParam },
    responses: { 200: success(schemas.seriesRecalculated, "The recomputed completion"), ...notFound },
  }),
  async (c) => ok(c, await service.recalculateSeries(database(c), c.req.valid("param").id)),
);
