/**
 * The form two series or author names are compared in (README: the same name in another case or
 * spacing is a 409). Names that look the same get the same key:
 * - NFKC, so fullwidth letters, ligatures and a no-break space become their plain forms;
 * - format characters (zero-width space and joiners, soft hyphen, BOM, direction marks) removed;
 * - every run of whitespace one space, the ends trimmed, lower case;
 * - a skeleton of the common Cyrillic and Greek look-alikes of Latin letters (`о` → `o`), after
 *   Unicode's confusables list (UTS #39), restricted to letters that are drawn the same.
 * The key only compares: the name is stored and answered as it was sent.
 */
export function nameKey(name: string): string {
  const plain = name
    .normalize("NFKC")
    .replace(/\p{Cf}/gu, "")
    .replace(/\s+/gu, " ")
    .trim()
    .toLowerCase();
  return Array.from(plain, (ch) => LOOK_ALIKES[ch] ?? ch).join("");
}

/** Lower-case Cyrillic and Greek letters drawn as a Latin one (upper case is lowered first). */
const LOOK_ALIKES: Record<string, string> = {
  // Cyrillic
  "\u0430": "a", // а
  "\u0432": "b", // в (its capital В is B)
  "\u0435": "e", // е
  "\u0451": "e", // ё (close enough once lowered: е with dots is not a different name here)
  "\u043a": "k", // к
  "\u043c": "m", // м (capital М)
  "\u043d": "h", // н (capital Н)
  "\u043e": "o", // о
  "\u0440": "p", // р
  "\u0441": "c", // с
  "\u0442": "t", // т (capital Т)
  "\u0443": "y", // у
  "\u0445": "x", // х
  "\u0455": "s", // ѕ
  "\u0456": "i", // і
  "\u0458": "j", // ј
  "\u04bb": "h", // һ
  "\u0501": "d", // ԁ
  "\u04cf": "l", // ӏ
  // Greek
  "\u03b1": "a", // α
  "\u03b2": "b", // β (capital Β)
  "\u03b5": "e", // ε (capital Ε)
  "\u03b7": "h", // η (capital Η)
  "\u03b9": "i", // ι
  "\u03ba": "k", // κ
  "\u03bc": "m", // μ (capital Μ)
  "\u03bd": "v", // ν
  "\u03bf": "o", // ο
  "\u03c1": "p", // ρ
  "\u03c4": "t", // τ (capital Τ)
  "\u03c5": "u", // υ
  "\u03c7": "x", // χ
  "\u03b6": "z", // ζ (capital Ζ)
};
