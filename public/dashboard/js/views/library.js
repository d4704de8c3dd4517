// Every book: a search (GET /api/books/search, on the search tier's budget) or a filtered list
// (GET /api/books: status, series, author, missing metadata, missing files), a page at a time. The query lives in
// the address (#/library?series=…), so a view can link to it and a reload keeps it.

import { api } from "../api.js";
import { badge, errorNotice, fill, h, notice, percentBar, table, time } from "../dom.js";

export const PAGE_SIZE = 50;
const STATUSES = ["active", "archived", "duplicate", "all"];

/** The query in the address: #/library?q=…&status=…&series=…&author=…&missing=1&page=2. */
function readQuery() {
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  return {
    q: params.get("q") ?? "",
    status: STATUSES.includes(params.get("status")) ? params.get("status") : "active",
    series: params.get("series") ?? "",
    author: params.get("author") ?? "",
    missing: params.get("missing") === "1",
    noFiles: params.get("nofiles") === "1",
    page: Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1),
  };
}

/** The address of a library query (empty fields left out). */
export function libraryHash(query) {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.status && query.status !== "active") params.set("status", query.status);
  if (query.series) params.set("series", query.series);
  if (query.author) params.set("author", query.author);
  if (query.missing) params.set("missing", "1");
  if (query.noFiles) params.set("nofiles", "1");
  if (query.page > 1) params.set("page", String(query.page));
  const text = params.toString();
  return text ? `#/library?${text}` : "#/library";
}

/** One page of books for the query: the search when there is a text, else the filtered list. */
async function booksFor(query) {
  const offset = (query.page - 1) * PAGE_SIZE;
  if (query.q) {
    const found = await api(
      "GET",
      `/api/books/search?${new URLSearchParams({ query: query.q, limit: String(PAGE_SIZE), offset: String(offset) })}`,
    );
    return { books: found.books, total: found.total_results, offset };
  }
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset), status: query.status });
  if (query.series) params.set("series", query.series);
  if (query.author) params.set("author", query.author);
  if (query.missing) params.set("missing_metadata", "true");
  if (query.noFiles) params.set("missing_files", "true");
  const list = await api("GET", `/api/books?${params}`);
  return { books: list.books, total: list.total, offset };
}

export async function libraryView(main) {
  const query = readQuery();
  const field = (label, input) => h("label", {}, h("span", {}, label), input);
  const text = h("input", { name: "q", type: "search", value: query.q, placeholder: "title, author, series, narrator, ISBN…" });
  const status = h(
    "select",
    { name: "status" },
    STATUSES.map((s) => h("option", { value: s, selected: s === query.status }, s)),
  );
  const series = h("input", { name: "series", value: query.series, placeholder: "exact name" });
  const author = h("input", { name: "author", value: query.author, placeholder: "exact name" });
  const missing = h("input", { name: "missing", type: "checkbox", checked: query.missing });
  const noFiles = h("input", { name: "nofiles", type: "checkbox", checked: query.noFiles });
  const form = h(
    "form",
    {
      role: "search",
      "aria-label": "Find books",
      onsubmit: (event) => {
        event.preventDefault();
        location.hash = libraryHash({
          q: text.value.trim(),
          status: status.value,
          series: series.value.trim(),
          author: author.value.trim(),
          missing: missing.checked,
          noFiles: noFiles.checked,
          page: 1,
        });
      },
    },
    h(
      "div",
      { class: "filters" },
      field("Search", text),
      field("Status", status),
      field("Series", series),
      field("Author", author),
      h("label", { class: "check" }, missing, "Missing metadata only"),
      h("label", { class: "check" }, noFiles, "Missing files only"),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, "Show books"),
      h("a", { class: "button secondary", href: "#/library" }, "Clear"),
    ),
  );
  const results = h("div", { "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  fill(
    main,
    h("h1", {}, "Library"),
    h(
      "section",
      { class: "card", "aria-labelledby": "lib-find" },
      h("h2", { id: "lib-find" }, "Find books"),
      form,
      query.q
        ? notice(
            "info",
            h("p", {}, "A search looks through every active book, best matches first; the filters apply to the list without a search."),
          )
        : null,
    ),
    h("section", { class: "card", "aria-labelledby": "lib-books" }, h("h2", { id: "lib-books" }, "Books"), results),
  );
  try {
    fill(results, booksTable(await booksFor(query), query));
  } catch (error) {
    fill(results, errorNotice(error, "The books could not be loaded"));
  }
  main.dataset.ready = "library";
}

function booksTable({ books, total, offset }, query) {
  if (books.length === 0) return notice("info", h("p", {}, total > 0 ? "No books on this page." : "No book matches."));
  const rows = books.map((b) =>
    h(
      "tr",
      { "data-book-id": b.id },
      h("th", { scope: "row" }, h("a", { href: `#/books/${b.id}` }, b.title), b.author ? h("div", { class: "muted" }, b.author) : null),
      h(
        "td",
        {},
        b.series
          ? [h("a", { href: libraryHash({ series: b.series, page: 1 }) }, b.series), b.series_number ? ` #${b.series_number}` : ""]
          : "—",
      ),
      h("td", {}, percentBar(b.metadata_completeness_percent, `${b.metadata_completeness_percent} %`)),
      h("td", {}, badge(b.status), b.files_missing ? [" ", badge("failed", "files missing")] : null),
      h("td", {}, time(b.date_added)),
    ),
  );
  const last = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const go = (page) => libraryHash({ ...query, page });
  const pager = h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    query.page > 1 ? h("a", { class: "button secondary", href: go(query.page - 1), rel: "prev" }, "← Previous") : h("span"),
    h("span", { class: "muted" }, `Books ${offset + 1}–${offset + books.length} of ${total} · page ${query.page} of ${last}`),
    query.page < last ? h("a", { class: "button secondary", href: go(query.page + 1), rel: "next" }, "Next →") : h("span"),
  );
  return [table(null, ["Title", "Series", "Metadata", "Status", "Added"], rows), pager];
}
