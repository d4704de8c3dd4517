// Generated mutants reviewed as equivalent (`npm run mutants -- --generated`, scripts/mutants-generated.js):
// no caller can see a difference, and the reason says why. Each is keyed by its file, its kind, the
// text it replaces and its replacement (scripts/lib/mutant-keys.js), never by line, so unrelated
// edits keep the entry; `original` is checked by `npm run mutants -- --check`, which reports the
// entry STALE when the text is gone from the file. Copy the key from the run's survivor listing.
export default [
  {
    key: "516542f954bd",
    file: "src/scheduler/schedule.ts",
    mutator: "StringLiteral",
    original: '"is not a valid cron expression"',
    replacement: '""',
    why: "assertValidCron parses with croner, which throws only Error objects (TypeError), so the text for a thrown non-Error is never used",
  },
  {
    key: "fd2322f1c69a",
    file: "src/scheduler/state.ts",
    mutator: "OptionalChaining",
    original: "row?.pausedBy",
    replacement: "row.pausedBy",
    why: "pauseTask's row comes from an upsert's RETURNING (insert, or update on conflict with no condition): it always exists",
  },
];
