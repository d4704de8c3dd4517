import { createRoute } from "@hono/zod-openapi";
import { database } from "../db/client";
import { actorFrom } from "../lib/client";
import { ok } from "../lib/response";
import { errors, router, success } from "../openapi/declare";
import { limiterFor } from "../rate-limit/middleware";
import { forgetRefusal } from "../rate-limit/refusals";
import { limiterClient } from "../services/api-keys";
import { auditEntry } from "../services/audit";
import * as schemas from "./admin.schemas";
import { limitParam } from "./admin.schemas";

/** `/api/admin/rate-limits`: a client's standing in a tier, and resetting it (admins). */
export const rateLimits = router();

const tags = ["admin"];

rateLimits.openapi(
  createRoute({
    method: "get",
    path: "/{tier}/{client}",
    tags,
    summary: "A client's rate-limit standing",
    description: "How much of a tier's budget a client (operator, user:<id>, key:<id>, ip:<address>) has used, without counting this look.",
    request: { params: limitParam },
    responses: { 200: success(schemas.limitStanding, "The standing"), ...errors({ 404: "No API key has this id (key:<id>)" }) },
  }),
  async (c) => {
    const { tier, client } = c.req.valid("param");
    const { limit, windowMs } = c.var.config.rateLimits[tier];
    const state = await limiterFor(c.env, tier, await limiterClient(database(c), client)).peek(limit, windowMs);
    return ok(c, {
      tier,
      client,
      limit,
      window_seconds: windowMs / 1000,
      count: limit - state.remaining,
      remaining: state.remaining,
      reset_seconds: Math.ceil(state.resetMs / 1000),
    });
  },
);

rateLimits.openapi(
  createRoute({
    method: "delete",
    path: "/{tier}/{client}",
    tags,
    summary: "Reset a client's rate limit",
    description:
      "Clears the client's count in the tier, so it may call again at once; recorded in the audit trail first: when the audit cannot be written (503), nothing is cleared.",
    request: { params: limitParam },
    responses: { 200: success(schemas.limitCleared, "Cleared"), ...errors({ 404: "No API key has this id (key:<id>)" }) },
  }),
  async (c) => {
    const { tier, client } = c.req.valid("param");
    const counted = await limiterClient(database(c), client);
    // The audit row first: no budget is ever cleared without one (a D1 outage answers 503 here, clearing nothing).
    await auditEntry(database(c), actorFrom(c), { action: "clear", resource: "rate_limit", resourceId: `${tier}:${client}` }).run();
    await limiterFor(c.env, tier, counted).clear();
    forgetRefusal(tier, counted);
    return ok(c, { tier, client, cleared: true as const });
  },
);
