import { createRoute } from "@hono/zod-openapi";
import { database } from "../db/client";
import { actorFrom } from "../lib/client";
import { page, pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import * as service from "../services/notifications";
import * as schemas from "./notifications.schemas";

/** `/api/admin/notifications`: the endpoints told of events (webhook, Discord, ntfy), their delivery log, a test send. */
export const notifications = router();

const tags = ["notifications"];
const unknownEndpoint = errors({ 404: "No notification endpoint has this id" });

notifications.openapi(
  createRoute({
    method: "get",
    path: "/endpoints",
    tags,
    summary: "List notification endpoints",
    description: "A page of the endpoints, newest first: URLs masked, never a secret.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.endpointPage, "A page of endpoints") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await service.listEndpoints(database(c), q);
    return ok(c, page("endpoints", rows, total, q));
  },
);

notifications.openapi(
  createRoute({
    method: "post",
    path: "/endpoints",
    tags,
    summary: "Register a notification endpoint",
    description:
      "A `webhook` (generic JSON signed per Standard Webhooks: its `whsec_` secret is answered this once), a `discord` webhook URL or an `ntfy` topic URL (with an optional access token), and the events it is sent.",
    request: { body: jsonBody(schemas.endpointBody) },
    responses: {
      201: success(schemas.endpointCreated, "The new endpoint"),
      ...errors({ 422: "A URL that is refused, or a token for a kind that takes none" }),
    },
  }),
  async (c) => created(c, { endpoint: await service.createEndpoint(database(c), c.var.config, actorFrom(c), c.req.valid("json")) }),
);

notifications.openapi(
  createRoute({
    method: "put",
    path: "/endpoints/{id}",
    tags,
    summary: "Change a notification endpoint",
    description: "Its name, URL, events, whether it is enabled, or (ntfy) its token; `token: null` removes it. A webhook's secret is kept.",
    request: { params: idParam, body: jsonBody(schemas.endpointChangesBody) },
    responses: { 200: success(schemas.endpointAnswer, "The endpoint as changed"), ...unknownEndpoint },
  }),
  async (c) => {
    const endpoint = await service.updateEndpoint(database(c), c.var.config, actorFrom(c), c.req.valid("param").id, c.req.valid("json"));
    return ok(c, { endpoint });
  },
);

notifications.openapi(
  createRoute({
    method: "delete",
    path: "/endpoints/{id}",
    tags,
    summary: "Delete a notification endpoint",
    description: "The endpoint and its delivery log; deliveries still pending are not sent.",
    request: { params: idParam },
    responses: { 200: success(schemas.endpointAnswer, "The deleted endpoint"), ...unknownEndpoint },
  }),
  async (c) => ok(c, { endpoint: await service.deleteEndpoint(database(c), actorFrom(c), c.req.valid("param").id) }),
);

notifications.openapi(
  createRoute({
    method: "post",
    path: "/endpoints/{id}/test",
    tags,
    summary: "Send a test notification",
    description: "Sends one `test` message now (not queued, not retried) and answers what the endpoint answered, within 5 seconds.",
    request: { params: idParam },
    responses: { 200: success(schemas.testResult, "What the endpoint answered"), ...unknownEndpoint },
  }),
  async (c) => ok(c, await service.testSend(database(c), c.var.config, c.req.valid("param").id)),
);

notifications.openapi(
  createRoute({
    method: "get",
    path: "/deliveries",
    tags,
    summary: "The delivery log",
    description: "Deliveries newest first, by endpoint and status: attempts, the last status and error (never a secret), the next attempt.",
    request: { query: schemas.deliveryQuery },
    responses: { 200: success(schemas.deliveryPage, "A page of deliveries") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows, total } = await service.listDeliveries(database(c), q, q);
    return ok(c, page("deliveries", rows, total, q));
  },
);
