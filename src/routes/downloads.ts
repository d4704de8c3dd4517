import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import { ABS_IMPORT_STATUSES, DOWNLOAD_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { idParam, validate } from "../lib/validate";
import * as service from "../services/downloads";

const id = z.number().int().positive();
const magnetLink = z
  .string()
  .trim()
  .max(10_000)
  .regex(/^magnet:\?/i, "Must be a magnet: link");
const torrentUrl = z
  .url({ protocol: /^https?$/, error: "Must be an http(s) URL" })
  .trim()
  .max(2_048);

const createBody = z
  .strictObject({
    title: z.string().trim().min(1).max(500),
    source: z.string().trim().min(1).max(100),
    author: optionalText(500),
    book_id: id.nullable().optional(),
    missing_book_id: id.nullable().optional(),
    magnet_link: magnetLink.nullable().optional(),
    torrent_url: torrentUrl.nullable().optional(),
  })
  .refine((body) => body.magnet_link || body.torrent_url, {
    message: "Either magnet_link or torrent_url is required",
    path: ["magnet_link"],
  });

const statusBody = z.strictObject({
  status: z.enum(DOWNLOAD_STATUSES),
  qb_hash: z.string().trim().min(1).max(255).optional(),
  qb_status: z.string().trim().min(1).max(100).optional(),
});

const markCompleteBody = z.strictObject({ abs_import_status: z.enum(ABS_IMPORT_STATUSES).default("pending") });

const markFailedBody = z.strictObject({
  error_msg: z.string().trim().min(1).max(2_000),
  // The original's caller-supplied count: accepted so its callers keep working, and ignored,
  // because the service counts the attempts itself.
  retry_attempt: z.number().int().min(1).optional(),
});

const retryBody = z.strictObject({ days_until_retry: z.number().int().min(1).max(30).default(1) });

/** `status`, or the original's name for it, `status_filter`. */
const listQuery = pageQuery
  .extend({ status: z.enum(DOWNLOAD_STATUSES).optional(), status_filter: z.enum(DOWNLOAD_STATUSES).optional() })
  .superRefine(atMostOneOf(["status", "status_filter"]))
  .transform((query) => foldAliases(query, "status", ["status_filter"]));

/** `/api/downloads` (reference 2.6). Static paths come before `/:id`. */
export const downloads = new Hono<AppEnv>();

downloads.get("/", validate("query", listQuery), async (c) => ok(c, await service.listDownloads(database(c), c.req.valid("query"))));

downloads.get("/pending", validate("query", pageQuery), async (c) =>
  ok(c, await service.pendingDownloads(database(c), c.req.valid("query"))),
);

downloads.get("/failed", validate("query", pageQuery), async (c) =>
  ok(c, await service.failedDownloads(database(c), c.req.valid("query"))),
);

downloads.get("/retry-due", validate("query", pageQuery), async (c) =>
  ok(c, await service.retryDueDownloads(database(c), c.req.valid("query"))),
);

downloads.post("/", validate("json", createBody), async (c) => created(c, await service.createDownload(database(c), c.req.valid("json"))));

downloads.get("/:id", validate("param", idParam), async (c) => ok(c, await service.getDownload(database(c), c.req.valid("param").id)));

downloads.delete("/:id", validate("param", idParam), async (c) =>
  ok(c, await service.deleteDownload(database(c), c.req.valid("param").id)),
);

downloads.put("/:id/status", validate("param", idParam), validate("json", statusBody), async (c) =>
  ok(c, await service.setStatus(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.put("/:id/mark-complete", validate("param", idParam), validate("json", markCompleteBody), async (c) =>
  ok(c, await service.markComplete(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.put("/:id/mark-failed", validate("param", idParam), validate("json", markFailedBody), async (c) =>
  ok(c, await service.markFailed(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.put("/:id/retry", validate("param", idParam), validate("json", retryBody), async (c) =>
  ok(c, await service.retryDownload(database(c), c.req.valid("param").id, c.req.valid("json"))),
);
