import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireService } from "../config";
import { database } from "../db/client";
import { Audiobookshelf } from "../integrations/audiobookshelf";
import { actorOf } from "../lib/actor";
import { NDJSON, wantsProgress, withProgress } from "../lib/progress";
import { ok } from "../lib/response";
import { envelope, errors, router } from "../openapi/declare";
import { errorSchema } from "../openapi/schemas";
import { recordedRun } from "../scheduler";
import { type SyncProgress, type SyncResult, syncLibrary, syncOutcome } from "../services/library-sync";

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

const syncProgress = z.strictObject({
  progress: z.strictObject({
    library: z.string().meta({ description: "The Audiobookshelf library being read" }),
    page: z.number().int().meta({ description: "The page just written, from 1" }),
    pages: z.number().int().meta({ description: "This library's pages, as its first page counted them" }),
    books: z.number().int().meta({ description: "Books read so far, over every library" }),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
  }) satisfies z.ZodType<SyncProgress>,
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
      "Reads every book library of Audiobookshelf (or ABS_LIBRARY_ID alone) and imports its books by abs_id, as POST /api/books/import does, making the rows of their series and authors. A book it lists again is active again; one whose files are gone is kept with files_missing and not owned. Books it no longer lists are archived (of ABS_LIBRARY_ID's library only, when set), unless they are more than 10 % of the library and force is not set. Each page is all or nothing: a failing Audiobookshelf leaves the catalogue as the last complete page left it, and archives nothing. " +
      `With \`Accept: ${NDJSON}\` the answer follows the sync as it goes: one line {"progress": …} after each page, then a last line that is the answer (or error) the route gives without it.`,
    request: { query: syncQuery },
    responses: {
      200: {
        description: "What the sync did; or, as asked by Accept, its progress and then that",
        content: {
          "application/json": { schema: envelope(syncResult) },
          [NDJSON]: { schema: z.union([syncProgress, envelope(syncResult), errorSchema]).meta({ description: "One line" }) },
        },
      },
      ...errors({ 502: "Audiobookshelf failed or answered wrongly", 503: "Audiobookshelf is not configured or not reachable" }),
    },
  }),
  async (c) => {
    const config = c.var.config;
    const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
    const { force } = c.req.valid("query");
    const [db, actor] = [database(c), actorOf(c.var.identity)];
    if (wantsProgress(c)) {
      const answer = withProgress<SyncResult, SyncProgress>(c, (onPage) =>
        recordedRun(db, "LIBRARY_SYNC", actor, () => syncLibrary(db, abs, actor, { force, onPage }), syncOutcome),
      );
      // A stream: @hono/zod-openapi types an application/x-ndjson answer as never, so it is named as the JSON one.
      return answer as unknown as ReturnType<typeof ok<SyncResult>>;
    }
    // Recorded as a LIBRARY_SYNC run, so the schedule and the overview show it beside the scheduled ones.
    return ok(c, await recordedRun(db, "LIBRARY_SYNC", actor, () => syncLibrary(db, abs, actor, { force }), syncOutcome));
  },
);
