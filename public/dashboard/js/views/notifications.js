// Notifications, for admins: the endpoints told of events (a signed webhook, Discord, ntfy), a
// test send, enable/disable and delete, a form to add one (a webhook's secret is shown this once),
// and the latest deliveries with their attempts and last error.

import { api, canAdmin } from "../api.js";
import { badge, errorNotice, fill, h, notice, runAction, table, time } from "../dom.js";

const KINDS = ["webhook", "discord", "ntfy"];
const EVENTS = [
  "download.failed",
  "download.abandoned",
  "task.failed",
  "limiter.degraded",
  "database.degraded",
  "request.created",
  "request.approved",
  "request.denied",
  "request.available",
  "request.failed",
];
const BASE = "/api/admin/notifications";

export async function notificationsView(main) {
  if (!canAdmin()) {
    fill(main, h("h1", {}, "Notifications"), notice("info", h("p", {}, "Notifications are managed by admins.")));
    main.dataset.ready = "notifications";
    return;
  }
  const output = h("div", { "aria-live": "polite" });
  const endpoints = h("div", {});
  const deliveries = h("div", {});
  const load = async () => {
    try {
      const [e, d] = await Promise.all([api("GET", `${BASE}/endpoints?limit=100`), api("GET", `${BASE}/deliveries?limit=20`)]);
      const names = new Map(e.endpoints.map((endpoint) => [endpoint.id, endpoint.name]));
      fill(endpoints, e.endpoints.length ? endpointsTable(e.endpoints, output, load) : h("p", { class: "muted" }, "No endpoint yet."));
      fill(deliveries, d.deliveries.length ? deliveriesTable(d.deliveries, names) : h("p", { class: "muted" }, "Nothing sent yet."));
    } catch (error) {
      fill(endpoints, errorNotice(error, "The notifications could not be loaded"));
    }
  };
  fill(
    main,
    h("h1", {}, "Notifications"),
    h("section", { class: "card", "aria-labelledby": "ntf-endpoints" }, h("h2", { id: "ntf-endpoints" }, "Endpoints"), output, endpoints),
    h("section", { class: "card", "aria-labelledby": "ntf-add" }, h("h2", { id: "ntf-add" }, "Add an endpoint"), addForm(output, load)),
    h("section", { class: "card", "aria-labelledby": "ntf-log" }, h("h2", { id: "ntf-log" }, "Latest deliveries"), deliveries),
  );
  await load();
  main.dataset.ready = "notifications";
}

function endpointsTable(list, output, reload) {
  const rows = list.map((endpoint) => {
    const name = endpoint.name;
    const test = h("button", { type: "button", "aria-label": `Send a test to ${name}` }, "Test");
    test.addEventListener("click", () =>
      runAction(
        test,
        output,
        `Test to ${name}`,
        () => api("POST", `${BASE}/endpoints/${endpoint.id}/test`, {}),
        (r) => (r.delivered ? `delivered (HTTP ${r.status}).` : `not delivered: ${r.error}.`),
      ),
    );
    const toggle = h(
      "button",
      { type: "button", class: "secondary", "aria-label": `${endpoint.enabled ? "Disable" : "Enable"} ${name}` },
      endpoint.enabled ? "Disable" : "Enable",
    );
    toggle.addEventListener("click", async () => {
      const done = await runAction(
        toggle,
        output,
        name,
        () => api("PUT", `${BASE}/endpoints/${endpoint.id}`, { enabled: !endpoint.enabled }),
        (r) => (r.endpoint.enabled ? "enabled." : "disabled."),
      );
      if (done) await reload();
    });
    const remove = h("button", { type: "button", class: "secondary", "aria-label": `Delete ${name}` }, "Delete");
    remove.addEventListener("click", async () => {
      if (!confirm(`Delete ${name} and its delivery log?`)) return;
      const done = await runAction(
        remove,
        output,
        name,
        () => api("DELETE", `${BASE}/endpoints/${endpoint.id}`),
        () => "deleted.",
      );
      if (done) await reload();
    });
    return h(
      "tr",
      { "data-endpoint": String(endpoint.id) },
      h("th", { scope: "row" }, name, h("div", { class: "muted" }, endpoint.kind)),
      h("td", {}, h("code", {}, endpoint.url)),
      h("td", {}, endpoint.events.join(", ")),
      h("td", {}, badge(endpoint.enabled ? "active" : "paused", endpoint.enabled ? "enabled" : "disabled")),
      h("td", {}, h("div", { class: "actions" }, test, toggle, remove)),
    );
  });
  return table(null, ["Endpoint", "URL", "Events", "State", "Actions"], rows);
}

function deliveriesTable(list, names) {
  const rows = list.map((d) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, d.event, h("div", { class: "muted" }, names.get(d.endpoint_id) ?? `endpoint ${d.endpoint_id}`)),
      h("td", {}, badge(d.status === "delivered" ? "completed" : d.status, d.status)),
      h("td", {}, `${d.attempts}`, d.last_error ? h("div", { class: "muted" }, d.last_error) : null),
      h("td", {}, d.status === "pending" ? time(d.next_attempt_at) : time(d.delivered_at ?? d.last_attempt_at)),
    ),
  );
  return table(null, ["Event", "Status", "Attempts", "When"], rows);
}

function addForm(output, reload) {
  const secret = h("div", { "aria-live": "polite" });
  const token = h(
    "label",
    { hidden: true },
    h("span", {}, "ntfy access token (optional)"),
    h("input", { name: "token", autocomplete: "off" }),
  );
  const kind = h(
    "select",
    { name: "kind", onchange: () => (token.hidden = kind.value !== "ntfy") },
    KINDS.map((k) => h("option", { value: k }, k)),
  );
  const events = h(
    "fieldset",
    {},
    h("legend", {}, "Events"),
    EVENTS.map((event) =>
      h(
        "label",
        { class: "row" },
        h("input", { type: "checkbox", name: "events", value: event, checked: event === "download.abandoned" || event === "task.failed" }),
        event,
      ),
    ),
  );
  const submit = h("button", { type: "submit" }, "Add endpoint");
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const body = {
          name: String(data.get("name")).trim(),
          kind: kind.value,
          url: String(data.get("url")).trim(),
          events: data.getAll("events").map(String),
          ...(kind.value === "ntfy" && String(data.get("token") ?? "").trim() ? { token: String(data.get("token")).trim() } : {}),
        };
        const created = await runAction(
          submit,
          output,
          `Endpoint ${body.name}`,
          () => api("POST", `${BASE}/endpoints`, body),
          () => "added.",
        );
        if (!created) return;
        form.reset();
        token.hidden = true;
        fill(
          secret,
          created.endpoint.secret
            ? notice("success", h("p", {}, "Its signing secret, shown this once: "), h("p", {}, h("code", {}, created.endpoint.secret)))
            : null,
        );
        await reload();
      },
    },
    h("label", {}, h("span", {}, "Name"), h("input", { name: "name", required: true, maxlength: 100 })),
    h("label", {}, h("span", {}, "Kind"), kind),
    h("label", {}, h("span", {}, "URL"), h("input", { name: "url", type: "url", required: true, placeholder: "https://…" })),
    token,
    events,
    h("div", { class: "actions" }, submit),
    secret,
  );
  return form;
}
