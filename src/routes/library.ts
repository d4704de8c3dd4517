import { Hono } from "hono";
import { requireService } from "../config";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { Audiobookshelf } from "../integrations/audiobookshelf";
import { actorOf } from "../lib/actor";
import { ok } from "../lib/response";
import { syncLibrary } from "../services/library-sync";

/** /api/library: the catalogue from Audiobookshelf. */
export const library = new Hono<AppEnv>();

library.post("/sync", async (c) => {
  const config = c.var.config;
  const abs = new Audiobookshelf(requireService(config, "audiobookshelf"), config.upstream);
  return ok(c, await syncLibrary(database(c), abs, actorOf(c.var.identity)));
});
