import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { REQUEST_STATUSES } from "../db/schema";
import { audible } from "../integrations/audible";
import { actorOf } from "../lib/actor";
import { actorFrom } from "../lib/client";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { idParam } from "../lib/validate";
import { roleOf } from "../middleware/auth";
import { errors, jsonBody, router, success } from "../openapi/declare";
import { createRequest, decide, getRequest, listRequests, type Requester, requestJson, searchCatalogue } from "../services/requests";
import { ASIN } from "../services/requests/search";
import * as schemas from "./requests.schemas";

/** `/api/requests`: anyone signed in searches the Audible catalogue and asks for a book; operators decide. */
export const requests = router();

const tags = ["requests"];

/** The caller as the requests service takes it (auth has run: every route here needs a role). */
function requesterOf(c: Context<AppEnv>): Requester {
  const identity = c.var.identity!;
  return {
    actor: actorFrom(c),
    name: actorOf(identity),
    userId: identity.kind === "user" ? identity.userId : null,
    role: roleOf(identity),
  };
}

requests.openapi(
  createRoute({
    method: "get",
    path: "/search",
    tags,
    summary: "Search the Audible catalogue",
    description:
      "Up to 10 books of the Audible catalogue for a title, an author or an ASIN, each saying whether it is in the library, already requested (by whom, for operators and admins), downloading, or wanted as a gap.",
    request: { query: z.object({ q: z.string().trim().min(2).max(200).meta({ description: "Title, author or ASIN" }) }) },
    responses: {
      200: success(schemas.searchResult, "The catalogue's books, most relevant first"),
      ...errors({ 502: "Audible failed or answered wrongly", 503: "Audible is not reachable" }),
    },
  }),
  async (c) => {
    const config = c.var.config;
    return ok(c, await searchCatalogue(database(c), audible(config), requesterOf(c), c.req.valid("query").q));
  },
);

const createBody = z
  .object({
    asin: z
      .string()
      .trim()
      .regex(ASIN, "an ASIN is B0 and eight letters or digits, or an ISBN-10")
      .meta({ description: "The book's Audible ASIN" }),
    again: z.boolean().optional().meta({ description: "Ask although the library has the book (a better edition, a broken copy)" }),
    reason: z.string().trim().max(500).optional().meta({ description: "Why; required with again" }),
  })
  .meta({ id: "BookRequestCreate" });

requests.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Ask for a book",
    description:
      "Requests a book of the Audible catalogue by ASIN, within REQUESTS_PER_DAY requests in 24 hours. Approved at once for the roles in REQUESTS_AUTO_APPROVE, else pending until an operator decides.",
    request: { body: jsonBody(createBody) },
    responses: {
      201: success(schemas.requestSchema, "The request"),
      ...errors({
        404: "Audible knows no book with this ASIN",
        409: "Already requested (the existing request is named), or already in the library without again: true",
        502: "Audible failed or answered wrongly",
        503: "Audible is not reachable",
      }),
    },
  }),
  async (c) => {
    const config = c.var.config;
    return created(c, await createRequest(database(c), audible(config), config, requesterOf(c), c.req.valid("json")));
  },
);

const listQuery = pageQuery.extend({
  status: z.enum(REQUEST_STATUSES).optional(),
  mine: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional()
    .meta({ description: "Operators and admins: only their own" }),
});

requests.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List requests",
    description: "Newest first: the caller's own, or every request for operators and admins.",
    request: { query: listQuery },
    responses: { 200: success(schemas.requestPage, "A page of requests") },
  }),
  async (c) => {
    const { status, mine, ...paging } = c.req.valid("query");
    return ok(c, await listRequests(database(c), requesterOf(c), { status, mine }, paging));
  },
);

requests.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "One request",
    description: "The caller's own request, or any for operators and admins.",
    request: { params: idParam },
    responses: { 200: success(schemas.requestSchema, "The request"), ...errors({ 404: "No such request of the caller's" }) },
  }),
  async (c) => ok(c, await getRequest(database(c), requesterOf(c), c.req.valid("param").id)),
);

const decisionBody = z.object({ note: z.string().trim().max(500).optional() }).meta({ id: "BookRequestDecision" });

for (const [path, approve] of [
  ["/{id}/approve", true],
  ["/{id}/deny", false],
] as const) {
  requests.openapi(
    createRoute({
      method: "post",
      path,
      tags,
      summary: approve ? "Approve a request" : "Deny a request",
      description: approve
        ? "A pending request becomes a wanted book (a gap with reason `request`) that ACQUIRE and QUEUE fetch; the note is kept."
        : "A pending request is refused, with the note saying why.",
      request: { params: idParam, body: jsonBody(decisionBody, "`{}`, or a note for the requester") },
      responses: {
        200: success(schemas.requestSchema, approve ? "The approved request" : "The denied request"),
        ...errors({ 404: "No such request", 409: "The request is not pending" }),
      },
    }),
    async (c) => {
      const { note } = c.req.valid("json");
      const row = await decide(database(c), requesterOf(c), c.req.valid("param").id, { approve, note });
      return ok(c, requestJson(row, { showRequester: true }));
    },
  );
}
