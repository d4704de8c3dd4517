// Generated mutants reviewed as equivalent (`npm run mutants -- --generated`, scripts/mutants-generated.js):
// no caller can see a difference, and the reason says why. Each is keyed by its file, its kind, the
// text it replaces and its replacement (scripts/lib/mutant-keys.js), never by line, so unrelated
// edits keep the entry; `original` is checked by `npm run mutants -- --check`, which reports the
// entry STALE when the text is gone from the file. Copy the key from the run's survivor listing.
export default [];
