import { z } from "zod";
import { decimalInt } from "./validate";

/** `?limit=&offset=` of every list: limit 1..500, default 100. */
export const pageQuery = z.object({
  limit: decimalInt(z.number().min(1).max(500)).default(100),
  offset: decimalInt(z.number().min(0).max(1_000_000_000)).default(0),
});
export type PageQuery = z.output<typeof pageQuery>;

/** `{ <key>: items, total, page_info }`, the shape of every list answer. */
export function page<K extends string, T>(key: K, items: T[], total: number, { limit, offset }: PageQuery) {
  return {
    [key]: items,
    total,
    page_info: { limit, offset, has_more: offset + limit < total },
  } as { [P in K]: T[] } & { total: number; page_info: { limit: number; offset: number; has_more: boolean } };
}
