/** What an update changed, field by field, as answered in `changes_made`. */
export type Changes = Record<string, { old: unknown; new: unknown }>;

/**
 * The fields of `input` whose value differs from `current` (only keys present in
 * the body count, and only when `old !== new`). Both sides use the answer's field names.
 */
export function changesOf(current: Record<string, unknown>, input: Record<string, unknown>): Changes {
  const changes: Changes = {};
  for (const [field, value] of Object.entries(input)) {
    if (value !== undefined && current[field] !== value) changes[field] = { old: current[field], new: value };
  }
  return changes;
}
