import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { database } from "../db/client";
import { ABS_IMPORT_STATUSES, DOWNLOAD_STATUSES } from "../db/schema";
import { atMostOneOf, foldAliases, optionalText } from "../lib/fields";
import { pageQuery } from "../lib/pagination";
import { created, ok } from "../lib/response";
import { decimalInt, idParam } from "../lib/validate";
import { errors, jsonBody, router, success } from "../openapi/declare";
import * as service from "../services/downloads";
import { MAGNET_PATTERN, MAX_MAGNET_CHARS, MAX_URL_CHARS, prowlarrUrlOf } from "../services/downloads/links";
import * as schemas from "./downloads.schemas";

const id = z.number().int().positive();
// The link's shape; where it may point is the service's rule (src/services/downloads/links.ts).
const magnetLink = z.string().trim().max(MAX_MAGNET_CHARS).regex(MAGNET_PATTERN, "Must be a magnet: link");
const torrentUrl = z
  .url({ protocol: /^https?$/, error: "Must be an http(s) URL" })
  .trim()
  .max(MAX_URL_CHARS);

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

/** 0 retries now: due at the next QUEUE run (every 5 minutes). */
const retryBody = z.strictObject({ days_until_retry: z.number().int().min(0).max(30).default(1) });

/** `status`, or the original's name for it, `status_filter`. */
const listQuery = pageQuery
  .extend({
    status: z.enum(DOWNLOAD_STATUSES).optional(),
    status_filter: z.enum(DOWNLOAD_STATUSES).optional(),
    book_id: decimalInt(z.number().positive()).optional().meta({ description: "Only the downloads of this book" }),
  })
  .superRefine(atMostOneOf(["status", "status_filter"]))
  .transform((query) => foldAliases(query, "status", ["status_filter"]));

/** `/api/downloads`. Static paths come before `/{id}`. */
export const downloads = router();

const tags = ["downloads"];
const notFound = errors({ 404: "No download has this id" });
const moveRefused = errors({ 409: "The download's status does not allow this change, or it changed meanwhile" });

downloads.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List downloads",
    description: "A page of the download queue, newest first, optionally only one status (`status`, or the original's `status_filter`).",
    request: { query: listQuery },
    responses: { 200: success(schemas.downloadPage, "A page of downloads") },
  }),
  async (c) => ok(c, await service.listDownloads(database(c), c.req.valid("query"))),
);

downloads.openapi(
  createRoute({
    method: "get",
    path: "/pending",
    tags,
    summary: "Queued downloads",
    description: "Downloads waiting in the queue, oldest first.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.downloadPage, "A page of queued downloads") },
  }),
  async (c) => ok(c, await service.pendingDownloads(database(c), c.req.valid("query"))),
);

downloads.openapi(
  createRoute({
    method: "get",
    path: "/failed",
    tags,
    summary: "Failed downloads",
    description: "Failed and abandoned downloads, most recent attempt first.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.downloadPage, "A page of failed downloads") },
  }),
  async (c) => ok(c, await service.failedDownloads(database(c), c.req.valid("query"))),
);

downloads.openapi(
  createRoute({
    method: "get",
    path: "/retry-due",
    tags,
    summary: "Downloads due for a retry",
    description: "Queued downloads whose retry time has come, soonest first.",
    request: { query: pageQuery },
    responses: { 200: success(schemas.downloadPage, "A page of downloads due") },
  }),
  async (c) => ok(c, await service.retryDueDownloads(database(c), c.req.valid("query"))),
);

downloads.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Queue a download",
    description:
      "Queues a magnet link, or a torrent URL on Prowlarr's origin (PROWLARR_URL; any other link is refused with 422, and Prowlarr's key is not stored). The same link may not be queued twice while active; a named gap moves to queued with it.",
    request: { body: jsonBody(createBody) },
    responses: {
      201: success(schemas.downloadQueued, "The queued download"),
      ...errors({ 409: "This link is already queued, or the gap is already in the library" }),
    },
  }),
  async (c) => created(c, await service.createDownload(database(c), c.req.valid("json"), prowlarrUrlOf(c.var.config))),
);

downloads.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Get a download",
    description: "The download with its status, attempts and import state.",
    request: { params: idParam },
    responses: { 200: success(schemas.downloadSchema, "The download"), ...notFound },
  }),
  async (c) => ok(c, await service.getDownload(database(c), c.req.valid("param").id)),
);

downloads.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Remove a download",
    description: "Removes the download from the queue; its gap goes back to the state of its latest remaining download.",
    request: { params: idParam },
    responses: { 200: success(schemas.downloadDeleted, "Which download was removed"), ...notFound },
  }),
  async (c) => ok(c, await service.deleteDownload(database(c), c.req.valid("param").id)),
);

downloads.openapi(
  createRoute({
    method: "put",
    path: "/{id}/status",
    tags,
    summary: "Set a download's status",
    description: "Moves the download to a status its state machine allows, with qBittorrent's hash and state when given.",
    request: { params: idParam, body: jsonBody(statusBody) },
    responses: { 200: success(schemas.downloadMoved, "The download, with its previous status"), ...notFound, ...moveRefused },
  }),
  async (c) => ok(c, await service.setStatus(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.openapi(
  createRoute({
    method: "put",
    path: "/{id}/mark-complete",
    tags,
    summary: "Mark a download complete",
    description: "Completes the download with its Audiobookshelf import state; marking a completed download again updates only that.",
    request: { params: idParam, body: jsonBody(markCompleteBody) },
    responses: { 200: success(schemas.downloadMoved, "The completed download"), ...notFound, ...moveRefused },
  }),
  async (c) => ok(c, await service.markComplete(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.openapi(
  createRoute({
    method: "put",
    path: "/{id}/mark-failed",
    tags,
    summary: "Report a failed attempt",
    description: "Counts one failed attempt; the download is abandoned when its attempts reach max_retries.",
    request: { params: idParam, body: jsonBody(markFailedBody) },
    responses: { 200: success(schemas.downloadFailed, "The download after the failure"), ...notFound, ...moveRefused },
  }),
  async (c) => ok(c, await service.markFailed(database(c), c.req.valid("param").id, c.req.valid("json"))),
);

downloads.openapi(
  createRoute({
    method: "put",
    path: "/{id}/retry",
    tags,
    summary: "Retry a download",
    description:
      "Back to the queue, due again in days_until_retry days (0: now, sent at the next QUEUE run); the last error is cleared; a completed or abandoned download starts a new round of attempts.",
    request: { params: idParam, body: jsonBody(retryBody) },
    responses: { 200: success(schemas.downloadRetried, "The queued download"), ...notFound, ...moveRefused },
  }),
  async (c) => ok(c, await service.retryDownload(database(c), c.req.valid("param").id, c.req.valid("json"))),
);
