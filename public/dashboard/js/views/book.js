// One book: its metadata, completeness and correction history; operators can correct it from
// Google Books or by hand (each change is recorded in the history).

import { api, canOperate } from "../api.js";
import { badge, fill, h, notice, percentBar, runAction, table, time } from "../dom.js";
import { libraryHash } from "./library.js";

/** The ten metadata fields that completeness counts (src/services/books/fields.ts), then the narrator. */
const FIELDS = [
  ["title", "Title"],
  ["author", "Author"],
  ["series", "Series"],
  ["series_number", "Position"],
  ["isbn", "ISBN"],
  ["asin", "ASIN"],
  ["publisher", "Publisher"],
  ["published_year", "Year"],
  ["duration_minutes", "Duration (minutes)"],
  ["description", "Description"],
  ["narrator", "Narrator"],
];
const NUMBERS = new Set(["published_year", "duration_minutes"]);

export async function bookView(main, [id], done = null) {
  const [book, history, downloads] = await Promise.all([
    api("GET", `/api/books/${id}`),
    api("GET", `/api/books/${id}/metadata-history`),
    api("GET", `/api/downloads?book_id=${id}&limit=100`).catch((error) => error),
  ]);
  // After a change the page is drawn again from the server, with the change's result on top.
  const reload = (message) => bookView(main, [id], message);
  fill(
    main,
    h(
      "p",
      { class: "row" },
      h("a", { href: "#/library" }, "← Library"),
      book.series ? h("a", { href: libraryHash({ series: book.series, page: 1 }) }, `Books of ${book.series}`) : null,
    ),
    h("h1", {}, book.title),
    done ? notice("success", h("p", {}, done)) : null,
    h(
      "section",
      { class: "card", "aria-labelledby": "bk-meta" },
      h("h2", { id: "bk-meta" }, "Metadata"),
      percentBar(book.metadata_completeness_percent, `${book.metadata_completeness_percent} % complete`),
      h(
        "dl",
        { class: "facts" },
        FIELDS.map(([key, label]) => [
          h("dt", {}, label),
          h("dd", {}, book[key] === null || book[key] === "" ? h("span", { class: "muted" }, "missing") : String(book[key])),
        ]),
        h("dt", {}, "Status"),
        h("dd", {}, book.status),
        h("dt", {}, "Updated"),
        h("dd", {}, time(book.last_metadata_update)),
      ),
    ),
    canOperate() ? corrections(book, reload) : null,
    downloadsCard(downloads),
    h(
      "section",
      { class: "card", "aria-labelledby": "bk-history" },
      h("h2", { id: "bk-history" }, `Metadata history (${history.total_corrections})`),
      history.corrections.length
        ? table(
            null,
            ["When", "Field", "Old", "New", "Source", "By"],
            history.corrections.map((c) =>
              h(
                "tr",
                {},
                h("td", {}, time(c.correction_date)),
                h("td", {}, c.field_name),
                h("td", {}, c.old_value ?? "—"),
                h("td", {}, c.new_value ?? "—"),
                h("td", {}, c.source, c.reason ? h("div", { class: "muted" }, c.reason) : null),
                h("td", {}, c.corrected_by ?? "—"),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No corrections yet."),
    ),
  );
  main.dataset.ready = "book";
}

/** The book's downloads (GET /api/downloads?book_id=), or why they could not be read. */
function downloadsCard(downloads) {
  const body =
    downloads instanceof Error
      ? notice("info", h("p", {}, "This book's downloads could not be read."))
      : downloads.downloads.length === 0
        ? h("p", { class: "muted" }, "No download of this book.")
        : table(
            null,
            ["Release", "Status", "Queued", "Completed"],
            downloads.downloads.map((d) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, d.title, h("div", { class: "muted" }, d.source)),
                h("td", {}, badge(d.status), d.abs_import_error ? h("div", { class: "error-text" }, d.abs_import_error) : null),
                h("td", {}, time(d.date_queued)),
                h("td", {}, time(d.date_completed)),
              ),
            ),
          );
  return h(
    "section",
    { class: "card", "aria-labelledby": "bk-downloads" },
    h("h2", { id: "bk-downloads" }, `Downloads${downloads instanceof Error ? "" : ` (${downloads.total})`}`),
    body,
  );
}

function corrections(book, reload) {
  const output = h("div", { "aria-live": "polite" });
  const google = h("button", { type: "button" }, "Fill empty fields from Google Books");
  const correct = async (force) => {
    let conflict = false;
    const work = () =>
      api("POST", "/api/metadata/correct-book", { book_id: book.id, force }).catch((error) => {
        conflict = error.code === "conflict";
        throw error;
      });
    const words = (r) =>
      `Google Books: ${r.corrections_made} field${r.corrections_made === 1 ? "" : "s"} filled; completeness now ${r.new_completeness} %.`;
    const r = await runAction(google, output, "Correction from Google Books", work, words);
    if (r) await reload(words(r));
    // Changed in the last 24 hours: the operator may decide to correct it anyway.
    else if (conflict && !force)
      output.append(h("button", { type: "button", class: "secondary", onclick: () => correct(true) }, "Correct anyway (force)"));
  };
  google.addEventListener("click", () => correct(false));

  const inputs = FIELDS.map(([key, label]) =>
    h(
      "label",
      {},
      h("span", {}, label),
      key === "description"
        ? h("textarea", { name: key, rows: 3 }, book[key] ?? "")
        : h("input", { name: key, value: book[key] ?? "", inputmode: NUMBERS.has(key) ? "numeric" : null }),
    ),
  );
  const reason = h("input", { name: "correction_reason", maxlength: 255, placeholder: "e.g. from the cover" });
  const save = h("button", { type: "submit" }, "Save changes");
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const changes = {};
        for (const [key] of FIELDS) {
          const raw = String(new FormData(form).get(key) ?? "").trim();
          const value = raw === "" ? null : NUMBERS.has(key) ? Number(raw) : raw;
          if (value !== (book[key] ?? null)) changes[key] = value;
        }
        if (Object.keys(changes).length === 0) {
          fill(output, notice("info", h("p", {}, "Nothing changed.")));
          return;
        }
        const body = { ...changes, correction_source: "Manual", correction_reason: reason.value.trim() || null };
        const words = (r) =>
          `${Object.keys(r.changes_made ?? changes).length} field(s) changed; completeness ${r.metadata_completeness_percent} %.`;
        const r = await runAction(save, output, "Metadata change", () => api("PUT", `/api/books/${book.id}`, body), words);
        if (r) await reload(`Saved: ${words(r)}`);
      },
    },
    h("div", { class: "form-grid" }, inputs),
    h("label", {}, h("span", {}, "Reason (kept in the history)"), reason),
    h("div", { class: "actions" }, save),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "bk-correct" },
    h("h2", { id: "bk-correct" }, "Correct this book"),
    h("div", { class: "actions" }, google),
    output,
    h("details", {}, h("summary", {}, "Edit by hand"), form),
  );
}
