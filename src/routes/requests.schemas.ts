import { z } from "zod";
import { GAP_DOWNLOAD_STATUSES, GAP_REASONS, REQUEST_STATUSES } from "../db/schema";
import { timestamp } from "../openapi/common";
import { pageOf } from "../openapi/declare";

// The answers of /api/requests (src/services/requests/).

export const requestSchema = z
  .strictObject({
    id: z.number().int(),
    asin: z.string(),
    title: z.string(),
    author: z.string().nullable(),
    series: z.string().nullable(),
    series_number: z.string().nullable(),
    release_date: z.string().nullable(),
    status: z.enum(REQUEST_STATUSES).meta({
      description: "pending → approved | denied → searching → downloading → available | failed",
    }),
    again: z.boolean().meta({ description: "Asked for although the library has the book" }),
    reason: z.string().nullable(),
    requested_by: z.string().nullable().meta({ description: 'Who asked ("user:ana"); null in a search hit for a viewer' }),
    decided_by: z.string().nullable(),
    decision_note: z.string().nullable(),
    decided_at: timestamp.nullable(),
    missing_book_id: z.number().int().nullable().meta({ description: "The wanted book the loop fetches, once approved" }),
    book_id: z.number().int().nullable().meta({ description: "The library book that fulfilled it" }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "BookRequest" });

export const requestPage = pageOf("requests", requestSchema);

const hit = z
  .strictObject({
    asin: z.string(),
    title: z.string(),
    subtitle: z.string().nullable(),
    authors: z.array(z.string()),
    series: z.array(z.strictObject({ name: z.string(), position: z.string().nullable() })),
    release_date: z.string().nullable(),
    format: z.string().nullable(),
    in_library: z
      .strictObject({ book_id: z.number().int() })
      .nullable()
      .meta({ description: "The library book that is this one (its ASIN, else its title and author)" }),
    request: z
      .strictObject({
        id: z.number().int(),
        status: z.enum(REQUEST_STATUSES),
        mine: z.boolean(),
        requested_by: z.string().nullable().meta({ description: "Shown to operators and admins, and to the requester" }),
      })
      .nullable()
      .meta({ description: "The latest request of this ASIN" }),
    downloading: z.boolean(),
    wanted: z
      .strictObject({ missing_book_id: z.number().int(), reason: z.enum(GAP_REASONS), download_status: z.enum(GAP_DOWNLOAD_STATUSES) })
      .nullable()
      .meta({ description: "An open gap that is this book" }),
  })
  .meta({ id: "CatalogueHit" });

export const searchResult = z.strictObject({ query: z.string(), results: z.array(hit) });
