// The download queue with progress as of QUEUE's last poll of qBittorrent (every 5 minutes): this
// page reads it every few seconds while the tab is visible, paused while it is hidden. Failed
// downloads can be retried by an operator, now or in a day.

import { api, canOperate } from "../api.js";
import { badge, duration, errorNotice, fill, h, notice, progressBar, runAction, speed, table, time, when } from "../dom.js";

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
      `Read ${when(new Date().toISOString())}`,
      monitorWords(monitor),
      ` · this page reads it again every ${POLL_MS / 1000} s while the tab is visible`,
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
    if (Number.isFinite(fraction))
      map.set(item.download_id, {
        percent: percentOf(fraction),
        state: item.qbittorrent_status,
        speed: item.download_speed ?? null,
        eta: item.eta_seconds ?? null,
      });
  }
  return map;
}

function monitorWords(monitor) {
  if (monitor.status === "rejected") return "; live progress from qBittorrent is not available on this server";
  if (monitor.value.configured === false) return "; qBittorrent is not configured";
  // Progress, speed and ETA are qBittorrent's at QUEUE's last poll (every 5 minutes), not live.
  return monitor.value.polled_at
    ? ["; progress, speed and ETA as of qBittorrent's last poll, ", time(monitor.value.polled_at), " (QUEUE polls every 5 minutes)"]
    : "; qBittorrent not polled yet";
}

const percentOf = (fraction) => Math.round(Math.max(0, Math.min(1, fraction)) * 1000) / 10;

function queueTable(data, progress, output, reload) {
  if (data.downloads.length === 0) return notice("info", h("p", {}, "The queue is empty."));
  const rows = data.downloads.map((d) => {
    const live = progress.get(d.id);
    const percent = live?.percent ?? (typeof d.progress === "number" ? percentOf(d.progress) : d.status === "completed" ? 100 : null);
    // qBittorrent's own state word, only where it says more than the status (not "downloading" twice).
    const state = live?.state ?? d.qbittorrent_status;
    const showState = state && state !== d.status && d.status !== "completed";
    return h(
      "tr",
      { "data-download-id": d.id },
      h("th", { scope: "row" }, d.title, d.author ? h("div", { class: "muted" }, d.author) : null),
      h("td", {}, badge(d.status), showState ? h("div", { class: "muted" }, `qBittorrent: ${state}`) : null),
      h(
        "td",
        {},
        percent === null ? "—" : progressBar(percent, `${percent} %`),
        live && d.status === "downloading" ? h("div", { class: "muted" }, `${speed(live.speed)} · ${duration(live.eta)} left`) : null,
      ),
      h(
        "td",
        {},
        `${d.retry_count} of ${d.max_retries}`,
        d.next_retry && d.status === "queued" ? h("div", { class: "muted" }, "due ", time(d.next_retry)) : null,
      ),
      h(
        "td",
        {},
        time(d.date_queued),
        d.abs_import_error ? h("div", { class: "error-text" }, d.abs_import_error) : null,
        canOperate() && ["failed", "abandoned"].includes(d.status) ? retryButtons(d, output, reload) : null,
      ),
    );
  });
  return table(
    `${data.total} download${data.total === 1 ? "" : "s"}`,
    ["Title", "Status", "Progress", "Retries", "Queued · last error"],
    rows,
  );
}

/** "Retry now" (sent at QUEUE's next run) beside "Retry tomorrow". */
function retryButtons(download, output, reload) {
  const button = (label, days, primary) => {
    const el = h("button", { type: "button", class: primary ? null : "secondary", "aria-label": `${label} ${download.title}` }, label);
    el.addEventListener("click", async () => {
      const done = await runAction(
        el,
        output,
        `Retry of “${download.title}”`,
        () => api("PUT", `/api/downloads/${download.id}/retry`, { days_until_retry: days }),
        (r) =>
          days === 0
            ? "queued again; QUEUE sends it at its next run (within 5 minutes)."
            : `queued again; next attempt ${when(r.next_retry)}.`,
      );
      if (done) await reload();
    });
    return el;
  };
  return h("div", { class: "actions" }, button("Retry now", 0, true), button("Retry tomorrow", 1, false));
}
