import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireService } from "../config";
import { database } from "../db/client";
import { Audiobookshelf } from "../integrations/audiobookshelf";
import { actorOf } from "../lib/actor";
import { ok } from "../lib/response";
import { errors, router, success } from "../openapi/declare";
import { syncLibrary } from "../services/library-sync";

const syncResult = z.strictObject({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  archived: z.number().int().meta({ description: "Active books from Audiobookshelf that it no longer lists" }),
  total: z.number().int(),
  duration_ms: z.number(),
  libraries: z.number().int(),
  pages: z.number().int(),
  archive_skipped: z.string().optional().meta({ description: "Why nothing was archived although the listing completed" }),
});

/** /api/library: the catalogue from Audiobookshelf. */
export const library = router();

library.openapi(
  createRoute({
    method: "post",
    path: "/sync",
    tags: ["library"],
    summary: "Import the catalogue from Audiobookshelf",
    description:
      "Reads every book library of Audiobookshelf and imports its books by abs_id, as POST /api/books/import does; books it no longer lists are archived. All or nothing: a failing Audiobookshelf leaves the catalogue as it was.",
    responses: {
      200: success(syncResult, "What the sync did"),
      ...errors({ 502: "Audiobookshelf failed or answered wrongly", 503: "Audiobookshelf is not configured or not reachable" }),
    },
  }),
  async (c) => {
    const config = c.var.config;
    const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
    return ok(c, await syncLibrary(database(c), abs, actorOf(c.var.identity)));
  },
);
