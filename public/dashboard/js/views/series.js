// Series with completion bars and their missing positions (computed by the API on every read); one
// series with its books; adding a series and editing its total (operators); and the acquisition of
// missing books (a dry run first, then a confirmation).

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, percentBar, runAction, table, time } from "../dom.js";
import { acquirePanel } from "./acquire.js";
import { libraryHash } from "./library.js";

/** Open gaps of one series by position: their title (the catalogue's, when it knows it) and download status. */
async function gapsOf(seriesId) {
  const data = await api("GET", `/api/gaps/missing?series_id=${seriesId}&limit=500`).catch(() => ({ missing_books: [] }));
  return new Map(data.missing_books.filter((gap) => !gap.resolved).map((gap) => [String(Number(gap.series_number)), gap]));
}

/** The missing positions in words: "#3, #4", "none", or why they are unknown. */
function missingWords(s) {
  if (s.missing_positions === null || s.missing_positions === undefined) return "total unknown";
  if (s.missing_positions.length === 0) return "none";
  const more = s.books_missing > s.missing_positions.length ? ` … (${s.books_missing} in all)` : "";
  return s.missing_positions.map((n) => `#${n}`).join(", ") + more;
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
      fill(list, seriesTable(await api("GET", `/api/series?limit=500${query}`)));
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
    canOperate() ? seriesForm(null, (created) => (location.hash = `#/series/${created.series_id}`)) : null,
    canOperate() ? acquirePanel() : null,
  );
  await load();
  main.dataset.ready = "series";
}

/**
 * Adds a series (`series` null) or edits one: its name, author and total. Answers the form in a
 * card; `done` gets the saved series.
 */
function seriesForm(series, done) {
  const output = h("div", { "aria-live": "polite" });
  const name = h("input", { name: "name", required: true, maxlength: 500, value: series?.name ?? "" });
  const author = h("input", { name: "author", maxlength: 500, value: series?.author ?? "" });
  const total = h("input", {
    name: "total",
    inputmode: "numeric",
    pattern: "[0-9]*",
    value: series?.total_books_in_series ?? "",
    "aria-describedby": "total-help",
  });
  const save = h("button", { type: "submit" }, series ? "Save series" : "Add series");
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const raw = total.value.trim();
        const body = {
          name: name.value.trim(),
          author: author.value.trim() || null,
          total_books_in_series: raw === "" ? null : Number(raw),
        };
        const saved = await runAction(
          save,
          output,
          series ? "Saving the series" : "Adding the series",
          () => (series ? api("PUT", `/api/series/${series.id}`, body) : api("POST", "/api/series", body)),
          (r) => `${r.name}: ${r.books_owned} of ${r.total_books_in_series ?? "?"} held.`,
        );
        if (saved) await done(saved);
      },
    },
    h(
      "div",
      { class: "form-grid" },
      h("label", {}, h("span", {}, "Name"), name),
      h("label", {}, h("span", {}, "Author"), author),
      h("label", {}, h("span", {}, "Books in the series"), total, h("small", { id: "total-help", class: "muted" }, "empty: unknown")),
    ),
    h("div", { class: "actions" }, save),
    output,
  );
  const id = series ? "sd-edit" : "series-add";
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    h("h2", { id }, series ? "Edit this series" : "Add a series"),
    series ? form : h("details", {}, h("summary", {}, "A series the library does not show yet, or its total"), form),
  );
}

function seriesTable(data) {
  if (data.series.length === 0) return notice("info", h("p", {}, "No series match."));
  const rows = data.series.map((s) => {
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `#/series/${s.id}` }, s.name), s.author ? h("div", { class: "muted" }, s.author) : null),
      h("td", {}, percentBar(s.completion_percentage, completionWords(s)), " ", badge(s.completion_status)),
      h("td", {}, missingWords(s)),
    );
  });
  const more = data.page_info?.has_more ? h("p", { class: "muted" }, `Showing ${data.series.length} of ${data.total}.`) : null;
  return [table(null, ["Series", "Completion", "Missing positions"], rows), more];
}

export async function seriesDetailView(main, [id]) {
  const [series, gaps] = await Promise.all([api("GET", `/api/series/${id}`), gapsOf(id)]);
  const books = await api("GET", `/api/books/series/${encodeURIComponent(series.name)}`);
  const positions = series.missing_positions ?? [];
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
      positions.length
        ? h(
            "ul",
            {},
            positions.map((n) => {
              const gap = gaps.get(n);
              // A gap's title says more than the position only once the catalogue knows the book.
              const title = gap && gap.title !== `${series.name} #${n}` ? gap.title : null;
              return h(
                "li",
                {},
                `#${n}`,
                title ? ` ${title}` : "",
                gap ? h("span", { class: "muted" }, ` · ${gap.download_status}`) : null,
              );
            }),
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
      h("p", {}, h("a", { href: libraryHash({ series: series.name, page: 1 }) }, "These books in the Library →")),
      table(
        null,
        ["Position", "Title", "Metadata"],
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
    // Saved: the page is read again, so the completion and the missing positions follow the new total.
    canOperate() ? seriesForm(series, () => seriesDetailView(main, [id])) : null,
  );
  main.dataset.ready = "series-detail";
}
