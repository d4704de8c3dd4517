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
  {
    key: "31f789bf3af1",
    file: "src/integrations/audible.ts",
    mutator: "MethodExpression",
    original: "held.sequence?.trim()",
    replacement: "held.sequence",
    why: "membersOf gets its sequences from seriesMembers' schema (upstreamNullableText), which trims them, so the trim changes nothing",
  },
  {
    key: "50c093b5a806",
    file: "src/integrations/audible.ts",
    mutator: "OptionalChaining",
    original: "held.sequence?.trim",
    replacement: "held.sequence.trim",
    why: "a held child has a cleaned sequence, which cleanSequence gives only for a non-empty raw sequence: held.sequence is never null there",
  },
  {
    key: "748237e6a238",
    file: "src/integrations/discord.ts",
    mutator: "EqualityOperator",
    original: "seconds >= 0",
    replacement: "seconds > 0",
    why: "a retry_after of 0 then falls to Discord's Retry-After header (the same wait in whole seconds, or none); the dispatcher waits max(its backoff of 5 minutes and more, the asked wait) (retryDelay in src/services/notifications/deliver.ts), so 0 and 0-1 s give the same next attempt",
  },
  {
    key: "eb40d804d651",
    file: "src/integrations/qbittorrent.ts",
    mutator: "ObjectLiteral",
    original: "{\n          upstreamStatus: held.upstreamStatus,\n        }",
    replacement: "{}",
    why: "nothing reads a qBittorrent error's upstreamStatus: only Google Books' and Audible's 429s are read (src/services/metadata-correction.ts, src/services/catalogue/refresh.ts), the error body never shows it, and this throw writes no upstream_failed log line",
  },
  {
    key: "663e083e45d3",
    file: "src/scheduler/runs.ts",
    mutator: "ConditionalExpression",
    original: "!created",
    replacement: "false",
    why: "startRun's row comes from a one-row INSERT ... RETURNING in a D1 batch that either fails (thrown) or answers that row: the guard never fires",
  },
  {
    key: "d9e3f1038041",
    file: "src/scheduler/schedule.ts",
    mutator: "ConditionalExpression",
    original: "runs.length < max",
    replacement: "true",
    why: "runsBetween's only caller (upcoming in src/scheduler/overview.ts) keeps the first per_task runs and says truncated when there were more: the same answer from a longer list. The bound saves croner's steps only (at most 2,016 runs a task in the 168 hours the route allows, at cronProblem's 5-minute floor)",
  },
  {
    key: "b91b2193f26d",
    file: "src/scheduler/overview.ts",
    mutator: "ArithmeticOperator",
    original: "TASK_NAMES.indexOf(a.task_name) - TASK_NAMES.indexOf(b.task_name)",
    replacement: "TASK_NAMES.indexOf(a.task_name) + TASK_NAMES.indexOf(b.task_name)",
    why: "the runs are built task by task in TASK_LIST order, which is TASK_NAMES order, and Array.prototype.sort is stable; the mutated tie-break is never negative, and V8's sort moves a run before another only on a negative answer, so ties keep that same order (checked in Node with 263 runs, merges included)",
  },
];
