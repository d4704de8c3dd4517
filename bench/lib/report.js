// The benchmark's answer: a Markdown table on stdout (README's Performance section takes it as
// is) and the goals of the issue, each met or not with the numbers behind it.

const fmt = (n, digits = 0) =>
  n === null || n === undefined ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One row per target: requests/s, ratio to the floor, p50, p99, errors, others' CPU during the run. */
export function table(rows) {
  const floor = rows.find((row) => row.id === "floor").rps;
  const lines = [
    "| target | books | requests/s | × floor | p50 ms | p99 ms | errors | others' CPU |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    const ratio = row.rps / floor;
    const busy = row.others_cpu_pct === null ? "–" : `${row.others_cpu_pct} %`;
    lines.push(
      `| ${row.label} | ${row.books ? fmt(row.books) : "–"} | ${fmt(row.rps)} | ${fmt(ratio, 2)} | ${fmt(row.p50_ms)} | ${fmt(row.p99_ms)} | ${fmt(row.errors)} | ${busy} |`,
    );
  }
  return lines.join("\n");
}

const LIMITER_NAMES = { peer: "hono-rate-limiter (key-value)", "peer-sqlite": "hono-rate-limiter (SQLite)", ours: "ours" };

export function exactnessTable(exactness) {
  const lines = [
    "| limiter (50 per 10 s) | 200 at once: admitted | straddle: at 0 s + 9.5 s + 10.5 s | most admitted in any 10 s |",
    "|---|---:|---:|---:|",
  ];
  for (const [name, result] of Object.entries(exactness)) {
    const s = result.straddle;
    lines.push(
      `| ${LIMITER_NAMES[name] ?? name} | ${result.concurrent.admitted} of 200 | ${s.admitted_at_0s} + ${s.admitted_at_9_5s} + ${s.admitted_at_10_5s} | ${s.most_in_any_10s} |`,
    );
  }
  return lines.join("\n");
}

/** The issue's goals against this run's numbers. */
export function goals(results) {
  const find = (id, books) => results.targets.find((t) => t.id === id && (books === undefined || t.books === books));
  const floor = find("floor").rps;
  const [small, large] = results.library_sizes;
  const { ours, peer, "peer-sqlite": peerSqlite } = results.exactness;
  const exact = (r) => r.concurrent.admitted <= r.concurrent.limit && r.straddle.most_in_any_10s <= r.straddle.limit;
  const admitted = (r) => `${r.concurrent.admitted}/200 at once, ${r.straddle.most_in_any_10s} in any 10 s`;
  const versus = (id) => find("peer-ours").rps / find(`peer-${id}`).rps;
  const scale = (id) => find(id, large).p50_ms / Math.max(find(id, small).p50_ms, 1);
  const list = Math.min(find("list", small).rps, find("list", large).rps) / floor;
  return [
    {
      goal: "ours admits exactly the limit where the peer over-admits",
      met: exact(ours) && !exact(peer) && !exact(peerSqlite),
      value: `ours ${admitted(ours)}; peer ${admitted(peer)}; peer on SQLite ${admitted(peerSqlite)}`,
    },
    {
      goal: "ours ≥ 1.2 × the peer's throughput",
      met: versus("peer") >= 1.2,
      value: `${fmt(versus("peer"), 2)} × the peer as documented; ${fmt(versus("peer-sqlite"), 2)} × the peer on SQLite storage`,
    },
    { goal: "/health/live ≥ 0.7 × floor", met: find("live").rps / floor >= 0.7, value: `${fmt(find("live").rps / floor, 2)} ×` },
    { goal: "book list ≥ 0.5 × floor (both sizes)", met: list >= 0.5, value: `${fmt(list, 2)} × (the lower of the two)` },
    {
      goal: `list p50 at ${fmt(large)} ≤ 2 × p50 at ${fmt(small)}`,
      met: scale("list") <= 2,
      value: `${fmt(find("list", large).p50_ms)} ms vs ${fmt(find("list", small).p50_ms)} ms`,
    },
    {
      goal: `search p50 at ${fmt(large)} ≤ 2 × p50 at ${fmt(small)}`,
      met: scale("search") <= 2,
      value: `${fmt(find("search", large).p50_ms)} ms vs ${fmt(find("search", small).p50_ms)} ms`,
    },
  ];
}

export function goalsTable(list) {
  return [
    "| goal | met | this run |",
    "|---|---|---|",
    ...list.map((g) => `| ${g.goal} | ${g.met ? "yes" : "**no**"} | ${g.value} |`),
  ].join("\n");
}

/** Each route's statements, in order, with their plans. */
export function plansText(plans) {
  const lines = [];
  for (const [route, statements] of Object.entries(plans)) {
    lines.push(route);
    statements.forEach(({ sql, plan }, i) => {
      lines.push(`  ${i + 1}. ${sql.length > 110 ? `${sql.slice(0, 110)}…` : sql}`);
      for (const step of plan) lines.push(`       ${step}`);
    });
  }
  return lines.join("\n");
}
