// The download queue with live progress: polled every few seconds while the tab is visible, paused
// while it is hidden. Failed downloads can be retried by an operator.

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, progressBar, runAction, table, time } from "../dom.js";

export const POLL_MS = 5000;
const STATUSES = ["queued", "downloading", "completed", "failed", "abandoned"];

export async function downloadsView(main) {
  const filter = h(
    "select",
    { id: "downloads-filter" },
    h("option", { value: "" }, "all"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const list = h("div", {});
  const updated = h("p", { class: "muted", "aria-live": "off" });
  const actionOutput = h("div", { "aria-live": "polite" });
  let timer = null;
  let stopped = false;
  let monitorMissing = false; // a server without the queue monitor is not asked again on every poll
  let backoffMs = 0; // after a 429: the server's Retry-After

  const load = async () => {
    const query = filter.value ? `&status=${filter.value}` : "";
    const [downloads, monitor] = await Promise.allSettled([
      api("GET", `/api/downloads?limit=100${query}`),
      monitorMissing ? Promise.reject(new Error("not available")) : api("GET", "/api/system/qbittorrent/monitor-status"),
    ]);
    if (stopped) return;
    if (monitor.status === "rejected" && monitor.reason?.status === 404) monitorMissing = true;
    const refused = [downloads, monitor].find((r) => r.status === "rejected" && r.reason?.code === "rate_limit_exceeded");
    backoffMs = refused ? Number(refused.reason.retryAfter || 60) * 1000 : 0;
    if (downloads.status === "rejected") {
      fill(list, errorNotice(downloads.reason, "The queue could not be loaded"));
      return;
    }
    const progress = progressByDownload(monitor.status === "fulfilled" ? monitor.value : null);
    fill(list, queueTable(downloads.value, progress, actionOutput, load));
    fill(
      updated,
      `Updated ${new Date().toLocaleTimeString()}`,
      monitorWords(monitor),
      ` · refreshes every ${POLL_MS / 1000} s while this tab is visible`,
    );
    main.dataset.ready = "downloads";
  };
  const schedule = () => {
    clearTimeout(timer);
    if (stopped || document.hidden) return;
    timer = setTimeout(
      async () => {
        await load().catch(() => {});
        schedule();
      },
      Math.max(POLL_MS, backoffMs),
    );
  };
  // Hidden tab: stop polling; visible again: refresh at once, then poll.
  const onVisibility = () => {
    if (document.hidden) clearTimeout(timer);
    else load().finally(schedule);
  };
  document.addEventListener("visibilitychange", onVisibility);
  filter.addEventListener("change", () => load().finally(schedule));

  fill(
    main,
    h("h1", {}, "Downloads"),
    h(
      "section",
      { class: "card", "aria-labelledby": "dl-queue" },
      h("h2", { id: "dl-queue" }, "Queue"),
      h("label", { class: "row" }, "Show", filter),
      updated,
      actionOutput,
      list,
    ),
  );
  await load();
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}

/** Progress in percent by download id, from the queue monitor's last poll (qBittorrent's 0..1). */
function progressByDownload(monitor) {
  const map = new Map();
  for (const item of monitor?.active_downloads ?? []) {
    const fraction = Number(item.progress);
    if (Number.isFinite(fraction)) map.set(item.download_id, { percent: percentOf(fraction), state: item.qbittorrent_status });
  }
  return map;
}

function monitorWords(monitor) {
  if (monitor.status === "rejected") return "; live progress from qBittorrent is not available on this server";
  if (monitor.value.configured === false) return "; qBittorrent is not configured";
  return monitor.value.polled_at ? ["; qBittorrent last polled ", time(monitor.value.polled_at)] : "; qBittorrent not polled yet";
}

const percentOf = (fraction) => Math.round(Math.max(0, Math.min(1, fraction)) * 1000) / 10;

function queueTable(data, progress, output, reload) {
  if (data.downloads.length === 0) return notice("info", h("p", {}, "The queue is empty."));
  const rows = data.downloads.map((d) => {
    const live = progress.get(d.id);
    const percent = live?.percent ?? (typeof d.progress === "number" ? percentOf(d.progress) : d.status === "completed" ? 100 : null);
    const state = live?.state ?? d.qbittorrent_status;
    return h(
      "tr",
      { "data-download-id": d.id },
      h("th", { scope: "row" }, d.title, d.author ? h("div", { class: "muted" }, d.author) : null),
      h("td", {}, badge(d.status), state ? h("div", { class: "muted" }, state) : null),
      h("td", {}, percent === null ? "—" : progressBar(percent, `${percent} %`)),
      h(
        "td",
        { class: "hide-narrow" },
        `${d.retry_count} of ${d.max_retries}`,
        d.next_retry ? h("div", { class: "muted" }, "next ", time(d.next_retry)) : null,
      ),
      h(
        "td",
        {},
        d.abs_import_error ? h("span", {}, d.abs_import_error) : time(d.date_queued),
        canOperate() && ["failed", "abandoned"].includes(d.status) ? retryButton(d, output, reload) : null,
      ),
    );
  });
  return table(
    `${data.total} download${data.total === 1 ? "" : "s"}`,
    ["Title", "Status", "Progress", "~Retries", "Queued / last error"],
    rows,
  );
}

function retryButton(download, output, reload) {
  const button = h("button", { type: "button", class: "secondary", "aria-label": `Retry ${download.title}` }, "Retry");
  button.addEventListener("click", async () => {
    const done = await runAction(
      button,
      output,
      `Retry of “${download.title}”`,
      () => api("PUT", `/api/downloads/${download.id}/retry`, {}),
      (r) => `queued again; next attempt ${r.next_retry ? new Date(r.next_retry).toLocaleString() : "as soon as possible"}.`,
    );
    if (done) await reload();
  });
  return h("div", {}, button);
}
