// The version a release carries (package.json, CHANGELOG.md "Versioning") and its git tag.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { shellQuote } from "./release-summary.js";

/** The versions CHANGELOG.md has released (`## [x.y.z] - yyyy-mm-dd`), newest first. */
export function changelogVersions(text) {
  return [...text.matchAll(/^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$/gm)].map((match) => match[1]);
}

/** package.json's version, and why it cannot be released (null when it can). */
export function releaseVersion(root) {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  let changelog;
  try {
    changelog = readFileSync(path.join(root, "CHANGELOG.md"), "utf8");
  } catch {
    return { version, problem: "CHANGELOG.md is missing" };
  }
  const newest = changelogVersions(changelog)[0];
  if (newest === version) return { version, problem: null };
  return {
    version,
    problem: `package.json's version ${version} is not CHANGELOG.md's newest, ${newest ?? "none"}: cut the version as CHANGELOG.md ("Versioning") says`,
  };
}

/**
 * Tags the released commit `v<version>` (annotated), the first time a version is released. A
 * version whose tag already names a commit is not moved: the commits after it are released
 * without a tag of their own until the next version is cut.
 */
export function tagRelease({ semver, message }, { root, dryRun }) {
  const name = `v${semver}`;
  const git = (...args) => spawnSync("git", args, { cwd: root, encoding: "utf8" });
  const head = git("rev-parse", "HEAD").stdout?.trim() || null;
  const tagged = git("rev-parse", "-q", "--verify", `refs/tags/${name}^{commit}`).stdout?.trim() || null;
  if (tagged) {
    return {
      name,
      created: false,
      detail:
        tagged === head
          ? "already tags this commit"
          : `already tags ${tagged.slice(0, 12)}: this release is ${name} and later commits; cut a new version (CHANGELOG.md) to tag one`,
    };
  }
  const argv = ["tag", "-a", name, "-m", `${name}: ${message}`];
  console.log(`$ git ${argv.map(shellQuote).join(" ")}`);
  if (dryRun) return { name, created: false, detail: "not created (dry run)" };
  // A GitHub runner's checkout is thrown away and may not push (deploy.yml: contents: read).
  if (process.env.GITHUB_ACTIONS === "true") {
    return {
      name,
      created: false,
      detail: `not created on the runner; from a clone: git tag -a ${name} ${head} && git push origin ${name}`,
    };
  }
  const result = git(...argv);
  if (result.status !== 0) {
    const why = `${result.stderr ?? ""}`.trim().split("\n").at(-1);
    return { name, created: false, detail: `git tag failed (${why}); tag the commit by hand: git tag -a ${name} ${head ?? "<commit>"}` };
  }
  return { name, created: true, detail: `created; publish it with git push origin ${name}` };
}
