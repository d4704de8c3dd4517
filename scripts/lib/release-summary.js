// The release's report (scripts/release.js): the GitHub job summary, and the end of the output when
// run by hand. It answers what an operator asks after a deploy: which version serves now, where the
// data's restore point is, what the smoke checks saw, and what to do next.

/** A word safe to paste into a POSIX shell: bare when plain, else single-quoted. */
export function shellQuote(word) {
  const text = String(word);
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

const code = (text) => `\`${String(text).replaceAll("`", "'")}\``;
const cell = (text) => String(text).replaceAll("|", "\\|").replaceAll("\n", " ");

export function releaseSummary(release) {
  const { env, worker, tag, bookmark, previous, version, failure, rollback } = release;
  const restore = bookmark ? `npx wrangler d1 time-travel restore DB --env ${env} --bookmark=${shellQuote(bookmark)}` : null;
  const headline = failure
    ? `FAILED at ${failure.step}${rollback ? (rollback.ok ? ", rolled back" : ", ROLLBACK FAILED") : ", no traffic was moved"}`
    : "released: 100 % of traffic on the new version";
  const lines = [
    `## Release ${code(tag)} of ${code(worker)} (${env})${release.dryRun ? " (dry run)" : ""}: ${headline}`,
    "",
    "| | |",
    "|---|---|",
    `| New version | ${version ? code(version) : "not uploaded"} (tag ${code(tag)}) |`,
    `| Previous version | ${previous ? code(previous) : "unknown"} |`,
    `| D1 bookmark before the migrations | ${bookmark ? code(bookmark) : "not recorded"} |`,
    `| URL | ${release.url ?? "unknown"} |`,
    `| Version | ${code(release.semver)}${release.gitTag ? `; git tag ${code(release.gitTag.name)}: ${cell(release.gitTag.detail)}` : ""} |`,
    "",
    "### Steps",
    "",
    "| step | result | command / detail |",
    "|---|---|---|",
    ...release.steps.map((s) => `| ${s.name} | ${s.status} | ${s.command ? code(s.command) : ""} ${cell(s.detail)} |`),
  ];
  if (rollback) lines.push(`| rollback | ${rollback.ok ? "ok" : "FAILED"} | ${code(rollback.command)} ${cell(rollback.detail)} |`);
  lines.push("", "### Smoke checks", "");
  if (release.smokes.length === 0) lines.push("None ran.");
  for (const smoke of release.smokes) {
    lines.push(`**${smoke.name}**: ${smoke.outcome}`, "", "```text", smoke.output || "(no output)", "```", "");
  }
  lines.push("### What to do", "");
  if (!failure) {
    lines.push(
      `- Nothing. If a problem shows up later, put the previous version back: ${code(`npx wrangler rollback ${previous} --env ${env} --message "<why>"`)}.`,
    );
  } else if (rollback && !rollback.ok) {
    lines.push(
      `- **The automatic rollback failed.** Traffic may still be split. Run ${code(`npx wrangler rollback ${previous} --env ${env} --message "release ${tag} failed"`)} and check ${code(`npx wrangler deployments status --env ${env}`)}.`,
    );
  } else if (rollback) {
    lines.push(`- The code is back on ${code(previous)}. Read the failing step and smoke output above, fix, and push again.`);
  } else {
    lines.push(
      `- No traffic was moved: ${previous ? code(previous) : "the previous version"} still serves everything. Fix the failing step and push again.`,
    );
  }
  const beforeMigrations = failure && ["url", "bookmark", "previous"].includes(failure.step);
  if (failure && beforeMigrations) {
    lines.push("- The database was not touched: the release stopped before the migrations.");
  } else if (restore && failure) {
    lines.push(
      `- ${failure.step === "migrations" ? "D1 undid the migration that failed; any earlier migration of this release stays applied." : "This release's migrations stay applied: expand/contract keeps the old version working on them."} Only if they damaged data, restore the database to the bookmark recorded before them: ${code(restore)}. This undoes every write since then; the command prints a bookmark that undoes the restore.`,
    );
  } else if (restore) {
    lines.push(`- The data's restore point from before this release's migrations, should one ever be needed: ${code(restore)}.`);
  }
  return `${lines.join("\n")}\n`;
}
