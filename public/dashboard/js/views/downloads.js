// The download queue with live progress: polled every few seconds while the tab is visible, paused
// while it is hidden. Failed downloads can be retried by an operator.

import { api, canOperate } from "../api.js";
import { badge, errorNotice, fill, h, notice, percentBar, runAction, table, time } from "../dom.js";

export const POLL_MS = 5000;
const STATUSES = ["queued", "downloading", "completed", "failed", "abandoned"];

export async function downloadsView(main) {
  const filter = h("select", { id: "downloads-filter" }, h("option", { value: "" }, "all"), STATUSES.map((s) => h("option", { value: s }, s)));
  const list = h("div", {});
  const updated = h("p", { class: "muted", "aria-live": "off" });
  const actionOutput = h("div", { "aria-live": "polite" });
  let timer = null;
  let stopped = false;

  const load = async () => {
    const query = filter.value ? `&status=${filter.value}` : "";
    const [downloads, monitor] = await Promise.allSettled([api("GET", `/api/downloads?limit=100${query}`), api("GET", "/api/system/qbittorrent/monitor-status")]);
    if (stopped) return;
    if (downloads.status === "rejected") {
      fill(list, errorNotice(downloads.reason, "The queue could not be loaded"));
      return;
    }
    const progress = progressByDownload(monitor.status === "fulfilled" ? monitor.value : null);
    fill(list, queueTable(downloads.value, progress, actionOutput, load));
    const polled = monitor.status === "fulfilled" && monitor.value?.polled_at ? ["; qBittorrent polled ", time(monitor.value.polled_at)] : monitor.status === "rejected" ? "; live progress from qBittorrent is not available" : "";
    fill(updated, `Updated ${new Date().toLocaleTimeString()}`, polled, ` · refreshes every ${POLL_MS / 1000} s while this tab is visible`);
    main.dataset.ready = "downloads";
  };
  const schedule = () => {
    clearTimeout(timer);
    if (stopped || document.hidden) return;
    timer = setTimeout(async () => {
      await load().catch(() => {});
      schedule();
    }, POLL_MS);
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
    h("section", { class: "card", "aria-labelledby": "dl-queue" }, h("h2", { id: "dl-queue" }, "Queue"), h("label", { class: "row" }, "Show", filter), updated, actionOutput, list),
  );
  await load();
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}

/** Progress (0..100) by download id or by torrent hash, from the queue monitor's last poll. */
function progressByDownload(monitor) {
  const map = new Map();
  const active = monitor?.active_downloads ?? monitor?.downloads ?? monitor?.active ?? [];
  for (const item of Array.isArray(active) ? active : []) {
    const raw = Number(item.progress);
    if (!Number.isFinite(raw)) continue;
    const percent = raw <= 1 ? Math.round(raw * 1000) / 10 : raw;
    const entry = { percent, state: item.state ?? item.qbittorrent_status, eta: item.eta };
    if (item.download_id ?? item.id) map.set(`id:${item.download_id ?? item.id}`, entry);
    if (item.hash ?? item.qbittorrent_hash) map.set(`hash:${String(item.hash ?? item.qbittorrent_hash).toLowerCase()}`, entry);
  }
  return map;
}

function queueTable(data, progress, output, reload) {
  if (data.downloads.length === 0) return notice("info", h("p", {}, "The queue is empty."));
  const rows = data.downloads.map((d) => {
    const live = progress.get(`id:${d.id}`) ?? (d.qbittorrent_hash ? progress.get(`hash:${d.qbittorrent_hash.toLowerCase()}`) : undefined);
    const percent = live?.percent ?? (typeof d.progress === "number" ? (d.progress <= 1 ? d.progress * 100 : d.progress) : d.status === "completed" ? 100 : null);
    const state = live?.state ?? d.qbittorrent_status;
    return h(
      "tr",
      { "data-download-id": d.id },
      h("th", { scope: "row" }, d.title, d.author ? h("div", { class: "muted" }, d.author) : null),
      h("td", {}, badge(d.status), state ? h("div", { class: "muted" }, state) : null),
      h("td", {}, percent === null ? "—" : percentBar(percent, `${percent} %`)),
      h("td", { class: "hide-narrow" }, `${d.retry_count} of ${d.max_retries}`, d.next_retry ? h("div", { class: "muted" }, "next ", time(d.next_retry)) : null),
      h("td", {}, d.abs_import_error ? h("span", {}, d.abs_import_error) : time(d.date_queued), canOperate() && ["failed", "abandoned"].includes(d.status) ? retryButton(d, output, reload) : null),
    );
  });
  return table(`${data.total} download${data.total === 1 ? "" : "s"}`, ["Title", "Status", "Progress", "Retries", "Queued / last error"], rows);
}

function retryButton(download, output, reload) {
  const button = h("button", { type: "button", class: "secondary", "aria-label": `Retry ${download.title}` }, "Retry");
  button.addEventListener("click", async () => {
    const done = await runAction(button, output, `Retry of “${download.title}”`, () => api("PUT", `/api/downloads/${download.id}/retry`, {}), (r) =>
      `queued again; next attempt ${r.next_retry ? new Date(r.next_retry).toLocaleString() : "as soon as possible"}.`,
    );
    if (done) await reload();
  });
  return h("div", {}, button);
}
