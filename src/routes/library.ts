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
  reactivated: z.number().int().meta({ description: "Archived books Audiobookshelf lists again: active again" }),
  missing_files: z
    .number()
    .int()
    .meta({ description: "Listed books whose files are gone (Audiobookshelf's isMissing): kept with files_missing, not owned" }),
  series_created: z.number().int().meta({ description: "Series rows made for the series of the books listed" }),
  authors_created: z.number().int().meta({ description: "Author rows made for the authors of the books listed" }),
  total: z.number().int(),
  duration_ms: z.number(),
  libraries: z.number().int(),
  pages: z.number().int(),
  archive_skipped: z.string().optional().meta({
    description:
      "Why nothing was archived: an empty listing, more than 10 % gone without force, or a listing not read to its end (over 100,000 items or 5 minutes)",
  }),
  malformed: z
    .number()
    .int()
    .optional()
    .meta({ description: "Listed items left out: not library items (a wrong shape, an id over 100 characters)" }),
});

const syncQuery = z.object({
  force: z
    .union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")])
    .default(false)
    .meta({ description: "Archive the books Audiobookshelf no longer lists even when they are more than 10 % of the library" }),
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
      "Reads every book library of Audiobookshelf (or ABS_LIBRARY_ID alone) and imports its books by abs_id, as POST /api/books/import does, making the rows of their series and authors. A book it lists again is active again; one whose files are gone is kept with files_missing and not owned. Books it no longer lists are archived (of ABS_LIBRARY_ID's library only, when set), unless they are more than 10 % of the library and force is not set. Each page is all or nothing: a failing Audiobookshelf leaves the catalogue as the last complete page left it, and archives nothing.",
    request: { query: syncQuery },
    responses: {
      200: success(syncResult, "What the sync did"),
      ...errors({ 502: "Audiobookshelf failed or answered wrongly", 503: "Audiobookshelf is not configured or not reachable" }),
    },
  }),
  async (c) => {
    const config = c.var.config;
    const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
    const { force } = c.req.valid("query");
    return ok(c, await syncLibrary(database(c), abs, actorOf(c.var.identity), { force }));
  },
);
