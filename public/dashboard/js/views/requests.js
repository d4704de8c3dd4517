// Requests: anyone signed in searches the Audible catalogue and asks for a book; the list shows the
// caller's own requests (every request for operators and admins), who may approve or deny the
// pending ones with a note. The loop then fetches an approved one (README, "Requests").

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, runAction, table, time } from "../dom.js";

const STATUSES = ["pending", "approved", "denied", "searching", "downloading", "available", "failed"];

export async function requestsView(main) {
  const output = h("div", { "aria-live": "polite" });
  const results = h("div", {});
  const list = h("div", {});
  const query = h("input", { id: "request-q", type: "search", name: "q", required: true, minlength: "2", autocomplete: "off" });
  const filter = h(
    "select",
    { id: "requests-filter" },
    h("option", { value: "" }, "all"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );

  const loadList = async () => {
    try {
      const data = await api("GET", `/api/requests?limit=100${filter.value ? `&status=${filter.value}` : ""}`);
      fill(list, requestsTable(data, output, loadList));
    } catch (error) {
      fill(list, errorNotice(error, "The requests could not be loaded"));
    }
  };
  const search = async () => {
    fill(results, h("p", { class: "muted" }, "Searching the Audible catalogue…"));
    try {
      const data = await api("GET", `/api/requests/search?q=${encodeURIComponent(query.value.trim())}`);
      fill(
        results,
        hitsTable(data, output, async () => Promise.all([search(), loadList()])),
      );
    } catch (error) {
      fill(results, errorNotice(error, "The catalogue search failed"));
    }
  };
  filter.addEventListener("change", loadList);

  fill(
    main,
    h("h1", {}, "Requests"),
    h(
      "section",
      { class: "card", "aria-labelledby": "req-search" },
      h("h2", { id: "req-search" }, "Ask for a book"),
      h(
        "form",
        {
          role: "search",
          onsubmit: (event) => {
            event.preventDefault();
            search();
          },
        },
        h("label", { for: "request-q" }, "Title, author or ASIN"),
        h("div", { class: "row" }, query, h("button", { type: "submit" }, "Search the catalogue")),
      ),
      output,
      results,
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "req-list" },
      h("h2", { id: "req-list" }, canOperate() ? "All requests" : "My requests"),
      h("label", { class: "row" }, "Show", filter),
      list,
    ),
  );
  await loadList();
  main.dataset.ready = "requests";
}

/** What the library already knows of a hit, in words. */
function standing(hit) {
  if (hit.in_library) return badge("in library");
  if (hit.request && !["denied", "failed", "available"].includes(hit.request.status)) {
    return [
      badge(hit.request.status),
      h(
        "div",
        { class: "muted" },
        hit.request.mine ? "your request" : `requested${hit.request.requested_by ? ` by ${hit.request.requested_by}` : ""}`,
      ),
    ];
  }
  if (hit.downloading) return badge("downloading");
  if (hit.wanted) return badge("wanted", "wanted (a gap)");
  return h("span", { class: "muted" }, "not in the library");
}

function hitsTable(data, output, reload) {
  if (data.results.length === 0) return notice("info", h("p", {}, `The catalogue has nothing for “${data.query}”.`));
  const rows = data.results.map((hit) => {
    const open = hit.request && !["denied", "failed", "available"].includes(hit.request.status);
    const askable = !open && !hit.in_library;
    return h(
      "tr",
      { "data-asin": hit.asin },
      h(
        "th",
        { scope: "row" },
        hit.title,
        h(
          "div",
          { class: "muted" },
          [hit.authors.join(", "), ...hit.series.map((s) => `${s.name}${s.position ? ` #${s.position}` : ""}`)].filter(Boolean).join(" · "),
        ),
      ),
      h("td", {}, standing(hit)),
      h("td", {}, askable ? askButton(hit, output, reload) : h("span", { class: "muted" }, hit.release_date ?? "")),
    );
  });
  return table(`${data.results.length} from the catalogue`, ["Book", "Standing", "Ask"], rows);
}

function askButton(hit, output, reload) {
  const button = h("button", { type: "button", "aria-label": `Request ${hit.title}` }, "Request");
  button.addEventListener("click", async () => {
    const done = await runAction(
      button,
      output,
      `Request for “${hit.title}”`,
      () => api("POST", "/api/requests", { asin: hit.asin }),
      (r) => (r.status === "pending" ? "asked; an operator decides." : `${r.status}: the loop fetches it.`),
    );
    if (done) await reload();
  });
  return button;
}

function requestsTable(data, output, reload) {
  if (data.requests.length === 0) return notice("info", h("p", {}, "No requests yet."));
  const rows = data.requests.map((r) =>
    h(
      "tr",
      { "data-request-id": r.id },
      h("th", { scope: "row" }, r.title, h("div", { class: "muted" }, [r.author, r.requested_by].filter(Boolean).join(" · "))),
      h("td", {}, badge(r.status), r.decision_note ? h("div", { class: "muted" }, r.decision_note) : null),
      h("td", {}, time(r.created_at), canOperate() && r.status === "pending" ? decideControls(r, output, reload) : null),
    ),
  );
  return table(`${data.total} request${data.total === 1 ? "" : "s"}`, ["Book", "Status", "Asked · decide"], rows);
}

/** Approve or deny, with an optional note for the requester. */
function decideControls(request, output, reload) {
  const note = h("input", {
    type: "text",
    name: "note",
    maxlength: "500",
    "aria-label": `Note on ${request.title}`,
    placeholder: "Note (optional)",
  });
  const button = (label, path, primary) => {
    const el = h("button", { type: "button", class: primary ? null : "secondary", "aria-label": `${label} ${request.title}` }, label);
    el.addEventListener("click", async () => {
      const body = note.value.trim() ? { note: note.value.trim() } : {};
      const done = await runAction(
        el,
        output,
        `${label} “${request.title}”`,
        () => api("POST", `/api/requests/${request.id}/${path}`, body),
        (r) => (r.status === "approved" ? "approved: ACQUIRE searches for it at its next run." : "denied."),
      );
      if (done) await reload();
    });
    return el;
  };
  return h("div", { class: "actions" }, note, button("Approve", "approve", true), button("Deny", "deny", false));
}
