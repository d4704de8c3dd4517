/** Equal values; lists and objects (genres, series entries) by their content. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === "object" && typeof b === "object" && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** What an update changed, field by field, as answered in `changes_made`. */
export type Changes = Record<string, { old: unknown; new: unknown }>;

/**
 * The fields of `input` whose value differs from `current` (only keys present in
 * the body count, and only when `old !== new`). Both sides use the answer's field names.
 */
export function changesOf(current: Record<string, unknown>, input: Record<string, unknown>): Changes {
  const changes: Changes = {};
  for (const [field, value] of Object.entries(input)) {
    if (value !== undefined && !same(current[field], value)) changes[field] = { old: current[field], new: value };
  }
  return changes;
}
