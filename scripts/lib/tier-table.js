// RATE_LIMITING.md's tables of tiers and routes, written from the route policy table
// (src/route-policy.ts) and the default limits (src/rate-limit/tiers.ts), so the document cannot
// say another thing than the code. `npm run docs:tiers` writes them; test/node/docs.test.ts
// fails when the committed document differs.

export const BEGIN = "<!-- tiers:begin: generated from src/route-policy.ts by `npm run docs:tiers`; do not edit by hand -->";
export const END = "<!-- tiers:end -->";

/** A tier with more routes than this is summed up in the tier table; every route is listed below it. */
const LISTED = 12;

const code = (text) => `\`${text}\``;

/**
 * The generated Markdown: one row per tier (its default, what happens when the limiter is down,
 * its routes), then one row per route (its tier, limit and least role), in the policy table's order.
 */
export function tierTables({ policies, limits, failClosed }) {
  const routes = Object.entries(policies);
  const tierRows = Object.entries(limits).map(([tier, limit]) => {
    const own = routes.filter(([, policy]) => policy.tier === tier).map(([route]) => route);
    const usedBy =
      own.length === 0
        ? "no route"
        : own.length > LISTED
          ? `${own.length} routes (see [Every route](#every-route))`
          : own.map(code).join(", ");
    const down = failClosed.includes(tier) ? "refuses (503)" : "admits, logs a warning";
    return `| ${code(tier)} | ${limit} | ${down} | ${usedBy} |`;
  });
  const routeRows = routes.map(
    ([route, policy]) =>
      `| ${code(route)} | ${code(policy.tier)} | ${limits[policy.tier]} | ${policy.access}${policy.rule ? `: ${policy.rule}` : ""} |`,
  );
  return [
    BEGIN,
    "",
    "| tier | default | limiter down | routes |",
    "|---|---|---|---|",
    ...tierRows,
    "",
    "### Every route",
    "",
    "| route | tier | default limit | least role |",
    "|---|---|---|---|",
    ...routeRows,
    "",
    END,
  ].join("\n");
}

/** The document with `generated` in place of what stands between the markers. */
export function withTables(document, generated) {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (start === -1 || end === -1 || end < start) throw new Error(`RATE_LIMITING.md lacks the markers ${BEGIN} … ${END}`);
  return `${document.slice(0, start)}${generated}${document.slice(end + END.length)}`;
}

/** What stands between the markers, markers included (null without them). */
export function currentTables(document) {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  return start === -1 || end < start ? null : document.slice(start, end + END.length);
}
