/**
 * Languages as releases name them. MyAnonamouse tags a release with its `lang_code`, which
 * Prowlarr writes into the title as `[ENG / M4B]` (Indexers/Definitions/MyAnonamouse.cs): three
 * upper-case letters, the bibliographic ISO 639-2 codes (ENG, GER, FRE, SPA, DUT, …). Other
 * spellings an operator or an indexer may use (`en`, `deu`, `German`) are read as that code.
 */

/** Other spellings of the common languages, to their ISO 639-2/B code. */
const ALIASES: Record<string, string> = {
  EN: "ENG",
  ENGLISH: "ENG",
  DE: "GER",
  DEU: "GER",
  GERMAN: "GER",
  DEUTSCH: "GER",
  FR: "FRE",
  FRA: "FRE",
  FRENCH: "FRE",
  ES: "SPA",
  SPANISH: "SPA",
  IT: "ITA",
  ITALIAN: "ITA",
  NL: "DUT",
  NLD: "DUT",
  DUTCH: "DUT",
  PT: "POR",
  PORTUGUESE: "POR",
  RU: "RUS",
  RUSSIAN: "RUS",
  JA: "JPN",
  JAPANESE: "JPN",
  ZH: "CHI",
  ZHO: "CHI",
  CHINESE: "CHI",
  SV: "SWE",
  SWEDISH: "SWE",
  PL: "POL",
  POLISH: "POL",
};

/** Codes a tag may hold alone (`[GER]`); a lone three-letter tag that is none of these (`[BBC]`) is no language. */
const KNOWN = new Set([
  ...Object.values(ALIASES),
  ..."ARA CZE DAN FIN GRE HEB HIN HUN IND KOR NOR RUM SLO TUR UKR VIE CAT WEL IRI ICE".split(" "),
]);

/** The ISO 639-2/B code of a language as written (`en`, `ENG`, `English`), or null when it is none. */
export function languageCode(text: string): string | null {
  const upper = text.trim().toUpperCase();
  if (ALIASES[upper]) return ALIASES[upper];
  return /^[A-Z]{3}$/.test(upper) ? upper : null;
}

/** File formats that a title's tags hold beside a language ("[MP3]", "[ENG / M4B]"): never a language. */
const FORMATS = new Set([
  "MP3",
  "M4A",
  "M4B",
  "AAC",
  "OGG",
  "OPUS",
  "FLAC",
  "WAV",
  "WMA",
  "PDF",
  "EPUB",
  "MOBI",
  "AZW",
  "CBR",
  "VBR",
  "VIP",
  "RAR",
  "ZIP",
]);

/**
 * The language a release title's tags name, as a code: MyAnonamouse's `[ENG / M4B]` (the first part
 * of a tag with " / "), or a tag that is only a language (`[GER]`); null when no tag says.
 */
export function releaseLanguage(title: string): string | null {
  for (const [, tag] of title.matchAll(/\[([^\]]*)\]/g)) {
    const parts = (tag ?? "").split("/").map((part) => part.trim());
    const first = parts[0] ?? "";
    if (FORMATS.has(first.toUpperCase())) continue;
    const code = languageCode(first);
    // MyAnonamouse's "[lang / filetype]" names a language first; a lone tag only when it is a known one.
    if (code && (parts.length > 1 || KNOWN.has(code))) return code;
  }
  return null;
}
