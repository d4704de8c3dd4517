// The morning view: the library, series completion as a chart, metadata, downloads, the last
// task runs, the outside services, and the library actions. Each card loads on its own, so one
// failing route never blanks the page.

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, percentBar, runAction, table, time, unavailableNotice } from "../dom.js";

export async function overviewView(main) {
  const cards = {
    library: h("section", { class: "card", "aria-labelledby": "ov-library" }),
    series: h("section", { class: "card", "aria-labelledby": "ov-series" }),
    metadata: h("section", { class: "card", "aria-labelledby": "ov-metadata" }),
    downloads: h("section", { class: "card", "aria-labelledby": "ov-downloads" }),
    tasks: h("section", { class: "card wide", "aria-labelledby": "ov-tasks" }),
    integrations: h("section", { class: "card wide", "aria-labelledby": "ov-integrations" }),
  };
  // After an action every card is read again: the counts, the runs and the chart move with it.
  const load = () => loadCards(main, cards);
  fill(main, h("h1", {}, "Overview"), canOperate() ? libraryActions(load) : null, h("div", { class: "grid" }, Object.values(cards)));
  await load();
}

async function loadCards(main, cards) {
  const [stats, library, downloads, tasks, integrations] = await Promise.allSettled([
    api("GET", "/api/system/stats"),
    api("GET", "/api/system/library-status"),
    api("GET", "/api/system/download-stats"),
    api("GET", "/api/scheduler/tasks"),
    api("GET", "/api/integrations"),
  ]);
  section(cards.library, "ov-library", "Library", stats, libraryCard);
  section(cards.series, "ov-series", "Series completion", library, (data) => seriesChart(data.series_completion));
  section(cards.metadata, "ov-metadata", "Metadata completeness", library, (data) => metadataCard(data.metadata_quality));
  section(cards.downloads, "ov-downloads", "Downloads by status", downloads, downloadsCard);
  section(cards.tasks, "ov-tasks", "Last task runs", tasks, tasksCard);
  section(cards.integrations, "ov-integrations", "Outside services", integrations, integrationsCard, "Integration status");
  main.dataset.ready = "overview";
  performance.mark("overview-ready");
}

function section(card, id, title, result, render, what = title) {
  const heading = h("h2", { id }, title);
  if (result.status === "fulfilled") fill(card, heading, render(result.value));
  else if (result.reason?.unavailable) fill(card, heading, unavailableNotice(result.reason, what));
  else fill(card, heading, errorNotice(result.reason, `${what} could not be loaded`));
}

function libraryCard(stats) {
  return [
    h("p", { class: "big" }, String(stats.books.total_active)),
    h(
      "p",
      { class: "muted" },
      `active books · ${stats.books.archived} archived · ${stats.series.total} series · ${stats.authors.total} authors`,
    ),
    h("p", {}, h("a", { href: "#/library" }, "Library: every book →")),
  ];
}

const PARTS = [
  ["complete", "Complete (100 %)"],
  ["partial", "Partial (50–99 %)"],
  ["incomplete", "Incomplete (under 50 %)"],
];

/** A stacked bar: solid, hatched and dotted, so the three parts differ without colour too. */
export function seriesChart(summary) {
  const total = summary.total_series;
  if (!total) return notice("info", h("p", {}, "No series yet. Sync the library or add series through the API."));
  let x = 0;
  const rects = PARTS.map(([key]) => {
    const width = (summary[key] / total) * 100;
    const rect = h("svg:rect", { class: key, x, y: 0, width, height: 10 });
    x += width;
    return rect;
  });
  const words = PARTS.map(([key, label]) => `${summary[key]} ${label.split(" ")[0].toLowerCase()}`).join(", ");
  return [
    h(
      "svg:svg",
      { class: "chart", viewBox: "0 0 100 10", preserveAspectRatio: "none", role: "img", "aria-label": `${total} series: ${words}` },
      patterns(),
      rects,
      h("svg:rect", { class: "frame", x: 0, y: 0, width: 100, height: 10 }),
    ),
    h(
      "ul",
      { class: "legend" },
      PARTS.map(([key, label]) =>
        h("li", {}, swatch(key), `${label}: `, h("strong", {}, String(summary[key])), ` (${Math.round((summary[key] / total) * 100)} %)`),
      ),
    ),
    h(
      "p",
      { class: "muted" },
      `Average completion ${summary.average_completion_percentage} % · ${summary.total_books_owned} books owned · ${summary.total_books_missing} missing`,
    ),
  ];
}

function patterns() {
  return h(
    "svg:defs",
    {},
    h(
      "svg:pattern",
      { id: "hatch", width: 2, height: 2, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      h("svg:line", { class: "hatch-line", x1: 0, y1: 0, x2: 0, y2: 2 }),
    ),
    h(
      "svg:pattern",
      { id: "dots", width: 2, height: 2, patternUnits: "userSpaceOnUse" },
      h("svg:circle", { class: "dot", cx: 1, cy: 1, r: 0.5 }),
    ),
  );
}

function swatch(key) {
  return h(
    "span",
    { class: "swatch", "aria-hidden": "true" },
    h("svg:svg", { class: "chart", viewBox: "0 0 10 10" }, patterns(), h("svg:rect", { class: key, x: 0, y: 0, width: 10, height: 10 })),
  );
}

function metadataCard(quality) {
  return [
    percentBar(quality.average_completeness_percent, `${quality.average_completeness_percent} % average`),
    h(
      "p",
      { class: "muted" },
      `${quality.books_100_percent} of ${quality.active_books} books complete · ${quality.books_below_80_percent} below 80 %`,
    ),
    h("p", {}, h("a", { href: "#/series" }, "Series and their books →")),
  ];
}

function downloadsCard(stats) {
  const rows = Object.entries(stats.status_breakdown).map(([status, count]) =>
    h("tr", {}, h("td", {}, badge(status)), h("td", { class: "num" }, String(count))),
  );
  return [
    table(null, ["Status", "#Downloads"], rows),
    h(
      "p",
      { class: "muted" },
      `${stats.total_downloads} in total · ${stats.retry_due_count} due for retry · `,
      h("a", { href: "#/downloads" }, "queue →"),
    ),
  ];
}

/** Who started a run: the schedule, or the person or key that asked (src/scheduler/runs.ts). */
export function startedBy(run) {
  const meta = run?.task_metadata ?? {};
  if (meta.trigger === "cron") return "scheduled";
  return meta.triggered_by ? `by ${meta.triggered_by}` : "by hand";
}

function tasksCard(data) {
  const rows = data.tasks.map((task) => {
    const last = task.last_run;
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, task.task_name),
      h("td", {}, last ? badge(last.status) : badge("never", "never run"), task.paused ? [" ", badge("paused")] : null),
      h("td", {}, last ? time(last.actual_end ?? last.actual_start ?? last.scheduled_time) : "—"),
      h("td", {}, last ? startedBy(last) : "—"),
    );
  });
  return [table(null, ["Task", "Last result", "When", "Started"], rows), h("p", {}, h("a", { href: "#/schedule" }, "Schedule →"))];
}

const SERVICE_NAMES = { audiobookshelf: "Audiobookshelf", qbittorrent: "qBittorrent", prowlarr: "Prowlarr", google_books: "Google Books" };

function integrationsCard(data) {
  const services = Array.isArray(data) ? data : (data.integrations ?? []);
  const rows = services.map((service) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, SERVICE_NAMES[service.name] ?? service.name),
      h("td", {}, badge(service.status)),
      h("td", { class: "num" }, service.latency_ms === null || service.latency_ms === undefined ? "—" : `${service.latency_ms} ms`),
      h("td", {}, service.version ?? service.detail ?? ""),
    ),
  );
  const checked = data.checked_at
    ? h("p", { class: "muted" }, "Checked ", time(data.checked_at), data.cached ? " (cached up to a minute)" : "")
    : null;
  return [table(null, ["Service", "Status", "#Latency", "Version or detail"], rows), checked];
}

function libraryActions(reload) {
  const output = h("div", { "aria-live": "polite" });
  const sync = h("button", { type: "button" }, "Sync library from Audiobookshelf");
  const analyse = h("button", { type: "button", class: "secondary" }, "Analyse gaps");
  sync.addEventListener("click", async () => {
    const done = await runAction(
      sync,
      output,
      "Library sync",
      () => api("POST", "/api/library/sync", {}),
      (r) =>
        `${r.total} items: ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged, ${r.archived} archived (${r.duration_ms} ms).`,
    );
    if (done) await reload();
  });
  analyse.addEventListener("click", async () => {
    const done = await runAction(
      analyse,
      output,
      "Gap analysis",
      () => api("POST", "/api/gaps/analyze", {}),
      (r) => r.message ?? `${r.gaps_found} gaps found.`,
    );
    if (done) await reload();
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "ov-actions" },
    h("h2", { id: "ov-actions" }, "Library actions"),
    h(
      "div",
      { class: "actions" },
      sync,
      analyse,
      h("a", { class: "button secondary", href: "#/series" }, "Acquire missing books…"),
      h("a", { class: "button secondary", href: "#/library" }, "Find a book…"),
    ),
    output,
  );
}
