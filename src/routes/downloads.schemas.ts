import { z } from "zod";
import { ABS_IMPORT_STATUSES, DOWNLOAD_STATUSES } from "../db/schema";
import { message, timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

// The answers of /api/downloads (src/services/downloads/).

const downloadStatus = z.enum(DOWNLOAD_STATUSES);

/** A download as answered (`downloadJson`). */
export const downloadSchema = z
  .strictObject({
    id: z.number().int(),
    book_id: z.number().int().nullable(),
    missing_book_id: z.number().int().nullable().meta({ description: "The gap this download fills" }),
    title: z.string(),
    author: z.string().nullable(),
    source: z.string(),
    magnet_link: z
      .string()
      .nullable()
      .meta({ description: "The magnet's hash, name and size: its trackers (which may hold a passkey) are never answered" }),
    torrent_url: z.string().nullable().meta({ description: "The torrent's URL without credentials (Prowlarr's key is never stored)" }),
    status: downloadStatus,
    qbittorrent_hash: z.string().nullable(),
    qbittorrent_status: z.string().nullable(),
    retry_count: z.number().int(),
    max_retries: z.number().int(),
    last_attempt: timestamp.nullable(),
    next_retry: timestamp.nullable(),
    abs_import_status: z.enum(ABS_IMPORT_STATUSES).nullable(),
    abs_import_error: z.string().nullable(),
    date_queued: timestamp,
    date_completed: timestamp.nullable(),
  })
  .meta({ id: "Download" });

export const downloadPage = pageOf("downloads", downloadSchema);

export const downloadQueued = downloadSchema.extend({ download_id: z.number().int() });

export const downloadMoved = downloadQueued.extend({ previous_status: downloadStatus });

export const downloadFailed = downloadMoved.extend({ error: z.string().nullable().meta({ description: "The error recorded" }) });

export const downloadRetried = downloadMoved.extend({ days_until_retry: z.number().int() });

export const downloadDeleted = message("download_id");
