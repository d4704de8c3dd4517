// Series with completion bars and their missing positions; one series with its books; and the
// acquisition of missing books (a dry run first, then a confirmation).

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, percentBar, table, time } from "../dom.js";
import { acquirePanel } from "./acquire.js";

/** Open gaps by series id: the missing positions, in order. */
async function missingBySeries() {
  const data = await api("GET", "/api/gaps/missing?limit=500");
  const bySeries = new Map();
  for (const gap of data.missing_books) {
    if (gap.series_id === null || gap.resolved) continue;
    const list = bySeries.get(gap.series_id) ?? [];
    list.push(gap);
    bySeries.set(gap.series_id, list);
  }
  for (const list of bySeries.values()) list.sort((a, b) => Number(a.series_number) - Number(b.series_number));
  return bySeries;
}

function completionWords(s) {
  const total = s.total_books_in_series ?? "?";
  return `${s.books_owned} of ${total} · ${s.completion_percentage} %`;
}

export async function seriesView(main) {
  const filter = h(
    "select",
    { id: "series-filter" },
    h("option", { value: "" }, "all"),
    ["incomplete", "partial", "complete"].map((status) => h("option", { value: status }, status)),
  );
  const list = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const load = async () => {
    const query = filter.value ? `&completion_status=${filter.value}` : "";
    try {
      const [series, missing] = await Promise.all([api("GET", `/api/series?limit=500${query}`), missingBySeries()]);
      fill(list, seriesTable(series, missing));
    } catch (error) {
      fill(list, errorNotice(error, "Series could not be loaded"));
    }
  };
  filter.addEventListener("change", load);
  fill(
    main,
    h("h1", {}, "Series"),
    h(
      "section",
      { class: "card", "aria-labelledby": "series-list" },
      h("h2", { id: "series-list" }, "Completion"),
      h("label", { class: "row" }, "Show", filter),
      list,
    ),
    canOperate() ? acquirePanel() : null,
  );
  await load();
  main.dataset.ready = "series";
}

function seriesTable(data, missing) {
  if (data.series.length === 0) return notice("info", h("p", {}, "No series match."));
  const rows = data.series.map((s) => {
    const gaps = missing.get(s.id) ?? [];
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `#/series/${s.id}` }, s.name), s.author ? h("div", { class: "muted" }, s.author) : null),
      h("td", {}, percentBar(s.completion_percentage, completionWords(s)), " ", badge(s.completion_status)),
      h("td", {}, gaps.length ? gaps.map((g) => `#${g.series_number}`).join(", ") : s.total_books_in_series ? "none" : "total unknown"),
    );
  });
  const more = data.page_info?.has_more ? h("p", { class: "muted" }, `Showing ${data.series.length} of ${data.total}.`) : null;
  return [table(null, ["Series", "Completion", "Missing positions"], rows), more];
}

export async function seriesDetailView(main, [id]) {
  const [series, missing] = await Promise.all([api("GET", `/api/series/${id}`), missingBySeries()]);
  const books = await api("GET", `/api/books/series/${encodeURIComponent(series.name)}`);
  const gaps = missing.get(series.id) ?? [];
  fill(
    main,
    h("p", {}, h("a", { href: "#/series" }, "← All series")),
    h("h1", {}, series.name),
    h(
      "section",
      { class: "card", "aria-labelledby": "sd-completion" },
      h("h2", { id: "sd-completion" }, "Completion"),
      percentBar(series.completion_percentage, completionWords(series)),
      " ",
      badge(series.completion_status),
      h("p", { class: "muted" }, series.author ? `by ${series.author} · ` : "", "checked ", time(series.last_completion_check)),
      h("h3", {}, "Missing positions"),
      gaps.length
        ? h(
            "ul",
            {},
            gaps.map((g) => h("li", {}, `#${g.series_number} `, h("span", { class: "muted" }, `${g.title} · ${g.download_status}`))),
          )
        : h(
            "p",
            {},
            series.total_books_in_series
              ? "None: every position is in the library."
              : "The series' total is unknown, so gaps cannot be computed.",
          ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "sd-books" },
      h("h2", { id: "sd-books" }, `Books in the library (${books.total_books})`),
      table(
        null,
        ["#", "Title", "Metadata"],
        books.books.map((b) =>
          h(
            "tr",
            {},
            h("td", {}, b.series_number ?? "—"),
            h("td", {}, h("a", { href: `#/books/${b.id}` }, b.title)),
            h("td", {}, percentBar(b.metadata_completeness_percent, `${b.metadata_completeness_percent} %`)),
          ),
        ),
      ),
    ),
  );
  main.dataset.ready = "series-detail";
}
