// Acquiring missing books: a dry run shows what would be queued and why every other release or
// gap was passed over; only then can the operator confirm, which queues the same request for real.

import { api } from "../api.js";
import { bytes, errorNotice, fill, h, notice, unavailableNotice } from "../dom.js";

export function acquirePanel() {
  const max = h("input", { id: "acquire-max", type: "number", min: 1, max: 10, value: 5, inputmode: "numeric" });
  const dryRun = h("button", { type: "button", id: "acquire-dry-run" }, "Dry run: show what would be queued");
  const output = h("div", { "aria-live": "polite" });
  dryRun.addEventListener("click", async () => {
    const maxDownloads = Number(max.value);
    if (!Number.isInteger(maxDownloads) || maxDownloads < 1 || maxDownloads > 10) {
      fill(output, notice("error", h("p", {}, "Enter a whole number from 1 to 10.")));
      max.focus();
      return;
    }
    dryRun.disabled = true;
    fill(
      output,
      notice(
        "info",
        h("p", {}, "Searching for each open gap (dry run: nothing is queued)…"),
        h("progress", { "aria-label": "Dry run in progress" }),
      ),
    );
    try {
      const plan = await api("POST", "/api/gaps/acquire", { max_downloads: maxDownloads, dry_run: true });
      fill(output, planView(plan, maxDownloads, output));
    } catch (error) {
      fill(
        output,
        error.unavailable
          ? unavailableNotice(error, "Acquisition through Prowlarr and qBittorrent")
          : errorNotice(error, "The dry run failed"),
      );
    } finally {
      dryRun.disabled = false;
    }
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "acquire-title", id: "acquire" },
    h("h2", { id: "acquire-title" }, "Acquire missing books"),
    h(
      "p",
      { class: "muted" },
      "Searches Prowlarr for each open gap and queues the best release. A dry run comes first: it shows every decision and its reason, and queues nothing.",
    ),
    h("div", { class: "row" }, h("label", { for: "acquire-max" }, "At most"), max, h("span", {}, "downloads")),
    h("div", { class: "actions" }, dryRun),
    output,
  );
}

function planView(plan, maxDownloads, output) {
  const queued = plan.queued ?? [];
  const skipped = plan.skipped ?? [];
  const weighed = new Map((plan.decisions ?? []).map((d) => [d.missing_book_id, d]));
  const confirm = h(
    "button",
    { type: "button", id: "acquire-confirm" },
    `Confirm: queue ${queued.length} download${queued.length === 1 ? "" : "s"}`,
  );
  const result = h("div", { "aria-live": "polite" });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    fill(result, notice("info", h("p", {}, "Queueing…"), h("progress", { "aria-label": "Queueing in progress" })));
    try {
      const done = await api("POST", "/api/gaps/acquire", { max_downloads: maxDownloads, dry_run: false });
      const count = (done.queued ?? []).length;
      fill(
        result,
        notice(
          "success",
          h(
            "p",
            {},
            h("strong", {}, `Queued ${count} download${count === 1 ? "" : "s"}`),
            `; ${(done.skipped ?? []).length} skipped. `,
            h("a", { href: "#/downloads" }, "See the queue →"),
          ),
          done.stopped ? h("p", {}, `Stopped early: ${done.stopped}`) : null,
        ),
      );
    } catch (error) {
      confirm.disabled = false;
      fill(result, errorNotice(error, "Queueing failed"));
    }
  });
  const more = plan.not_reached
    ? ` ${plan.not_reached} more gap${plan.not_reached === 1 ? " was" : "s were"} not reached within this run's limits.`
    : "";
  const searched = plan.searched ?? 0;
  return h(
    "div",
    { id: "acquire-plan" },
    notice(
      "info",
      h(
        "p",
        {},
        h("strong", {}, "Dry run: "),
        `${searched} search${searched === 1 ? "" : "es"}; ${queued.length} would be queued, ${skipped.length} skipped.${more} Nothing has been queued yet.`,
      ),
      plan.stopped ? h("p", {}, `Prowlarr stopped answering part way: ${plan.stopped}`) : null,
    ),
    h("h3", {}, "Would be queued"),
    queued.length
      ? h(
          "ul",
          { class: "plain" },
          queued.map((item) => entry(item, "queue", weighed.get(item.missing_book_id))),
        )
      : h("p", {}, "Nothing."),
    h("h3", {}, "Skipped"),
    skipped.length
      ? h(
          "ul",
          { class: "plain" },
          skipped.map((item) => entry(item, "skip", weighed.get(item.missing_book_id))),
        )
      : h("p", {}, "Nothing."),
    queued.length
      ? h("div", { class: "actions" }, confirm, h("button", { type: "button", class: "secondary", onclick: () => fill(output) }, "Cancel"))
      : null,
    result,
  );
}

const words = (code) => String(code ?? "").replace(/_/g, " ");

/** One gap's outcome: what it wants, the verdict and its reason, and each release that was weighed. */
function entry(item, verdict, search) {
  const release = item.release;
  const why =
    verdict === "queue"
      ? `best release; matched by ${words(release?.match)}`
      : `${words(item.reason)}${item.detail ? `: ${item.detail}` : ""}`;
  const releases = search?.releases ?? [];
  return h(
    "li",
    {},
    h("strong", {}, verdict === "queue" ? "✓ Queue: " : "– Skip: ", item.wanted ?? `missing book ${item.missing_book_id}`),
    release
      ? h(
          "div",
          {},
          "Release: ",
          release.title,
          h("span", { class: "muted" }, ` · ${release.seeders} seeders · ${bytes(release.size)}${release.freeleech ? " · freeleech" : ""}`),
        )
      : null,
    h("div", { class: "muted" }, "Why: ", why),
    releases.length
      ? h(
          "details",
          {},
          h("summary", {}, `${releases.length} release${releases.length === 1 ? "" : "s"} weighed for “${search.query}”`),
          h(
            "ol",
            { class: "decisions" },
            releases.map((d) =>
              h(
                "li",
                {},
                d.accepted ? `✓ rank ${d.rank}: ` : "✗ refused: ",
                d.title,
                h(
                  "span",
                  { class: "muted" },
                  ` — ${words(d.reason)}${d.detail ? `: ${d.detail}` : ""} · ${d.seeders} seeders · ${bytes(d.size)}${d.freeleech ? " · freeleech" : ""}`,
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
