import { z } from "zod";
import { BODY_CONTROLS, LINE_CONTROLS } from "../lib/validate";

/**
 * What an outside service's answer may put into this service (README, "Connecting your services"):
 * the same text a caller may send, no longer than the field it lands in. A hostile or broken
 * upstream is bounded here, in every service client's zod schema, before anything is stored or
 * answered: texts are cleaned of control characters and clipped, identifiers that are too long
 * or hold control characters are refused (clipping two ids could make them one), and lists are
 * cut to what a run reads. Every client calls these: Audiobookshelf, Prowlarr, Google Books,
 * qBittorrent, and any new one (the Audible catalogue).
 */

const BODY_CONTROLS_ALL = new RegExp(BODY_CONTROLS.source, "g");
const LINE_CONTROLS_ALL = new RegExp(LINE_CONTROLS.source, "g");

/**
 * `value` well formed, without control characters, trimmed, at most `max` characters (never half of a
 * surrogate pair). A one-line text turns tabs and line breaks into spaces; a multi-line one
 * (a description) keeps them, as a caller's body may.
 */
export function cleanText(value: string, max: number, multiline = false): string {
  // JSON may carry half of a surrogate pair ("\ud800"): replaced (U+FFFD), since encodeURIComponent
  // and TextEncoder of a later step would throw on it or change it.
  const wellFormed = value.toWellFormed();
  const cleaned = multiline
    ? wellFormed.replace(BODY_CONTROLS_ALL, "")
    : wellFormed.replace(/[\t\r\n]+/g, " ").replace(LINE_CONTROLS_ALL, "");
  let text = cleaned.trim();
  if (text.length > max) {
    const cut = /[\ud800-\udbff]/.test(text[max - 1] ?? "") ? max - 1 : max;
    text = text.slice(0, cut).trimEnd();
  }
  return text;
}

/** A text of an upstream answer, cleaned and clipped to `max` (never refused for its length). */
export const upstreamText = (max: number, options: { multiline?: boolean } = {}) =>
  z.string().transform((value) => cleanText(value, max, options.multiline));

/** An optional text of an upstream answer: null when absent, else cleaned and clipped. */
export const upstreamNullableText = (max: number, options: { multiline?: boolean } = {}) =>
  z
    .string()
    .nullish()
    .transform((value) => (value == null ? null : cleanText(value, max, options.multiline)));

/** An identifier of an upstream answer: 1..`max` characters with no control character, else refused. */
export const upstreamId = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !LINE_CONTROLS.test(value), "Control characters in an identifier");

/** A list of an upstream answer: at most `max` items are read; the rest are dropped unparsed. */
export const upstreamList = <Item extends z.ZodType>(item: Item, max: number) =>
  z
    .array(z.unknown())
    .transform((items) => items.slice(0, max))
    .pipe(z.array(item));

/**
 * Items of a list parsed one by one: the first `max`, those that fit `item`, and how many did not
 * (one odd item does not hide the others, and a list of a million costs no more than `max`).
 */
export function parseEach<Item extends z.ZodType>(
  items: unknown[],
  item: Item,
  max: number,
): { items: z.output<Item>[]; malformed: number } {
  const parsed: z.output<Item>[] = [];
  let malformed = 0;
  for (const value of items.slice(0, max)) {
    const result = item.safeParse(value);
    if (result.success) parsed.push(result.data);
    else malformed++;
  }
  return { items: parsed, malformed };
}
