// Small DOM helpers. Text always goes in as text (never as HTML), so nothing the API answers can
// become markup; the CSP forbids inline script and style on top of that.

import { ApiError, plainWords } from "./api.js";

/**
 * h("a", {href: "#/x", class: "y"}, "text", child) → element. `on*` attributes become listeners;
 * null/false children and attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

/** A number of bytes a second, as qBittorrent reports speed. */
export function speed(n) {
  return typeof n === "number" && Number.isFinite(n) ? `${bytes(n)}/s` : "—";
}

/** Seconds left in words: "12 min", "3 h 5 min". */
export function duration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—";
  const minutes = Math.max(1, Math.round(seconds / 60));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A <time> element with the exact instant in its datetime attribute. */
export function time(iso) {
  return iso ? h("time", { datetime: iso }, when(iso)) : "—";
}

export function bytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

const TONE = {
  complete: ["s-ok", "✓"],
  completed: ["s-ok", "✓"],
  ok: ["s-ok", "✓"],
  active: ["s-ok", "✓"],
  partial: ["s-warn", "◐"],
  downloading: ["s-warn", "↓"],
  queued: ["s-idle", "…"],
  running: ["s-warn", "↻"],
  scheduled: ["s-idle", "…"],
  incomplete: ["s-bad", "○"],
  failed: ["s-bad", "✗"],
  error: ["s-bad", "✗"],
  abandoned: ["s-bad", "⊘"],
  skipped: ["s-idle", "–"],
  not_configured: ["s-idle", "–"],
  paused: ["s-idle", "‖"],
  never: ["s-idle", "–"],
};

/** A status word with a symbol: readable without colour, colour only repeats it. */
export function badge(status, label = String(status ?? "unknown").replace(/_/g, " ")) {
  const [tone, symbol] = TONE[status] ?? ["s-idle", "•"];
  return h("span", { class: `badge ${tone}` }, h("span", { "aria-hidden": "true" }, `${symbol} `), label);
}

/** A bar with its number in words beside it (the bar alone is never the only carrier). */
export function percentBar(percent, words) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  return h(
    "span",
    { class: "bar-line" },
    h("meter", { min: 0, max: 100, low: 50, high: 99, optimum: 100, value, "aria-label": words }),
    h("span", {}, words),
  );
}

/** How far a download has come: a <progress>, with the percent in words beside it. */
export function progressBar(percent, words) {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  return h("span", { class: "bar-line" }, h("progress", { max: 100, value, "aria-label": words }), h("span", {}, words));
}

/** A boxed message; errors carry the request id to quote. */
export function notice(kind, ...content) {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...content);
}

export function errorNotice(error, what = "That did not work") {
  if (error instanceof ApiError && error.status === 404 && /^No route/.test(error.detail)) {
    return notice("info", h("p", {}, h("strong", {}, `${what}: `), "this is not available on this server yet."));
  }
  const parts = [h("p", {}, h("strong", {}, `${what}: `), plainWords(error))];
  if (error instanceof ApiError && error.requestId)
    parts.push(h("p", { class: "muted" }, "Request id (quote it when asking for help): ", h("code", {}, error.requestId)));
  return notice("error", ...parts);
}

/** What a view shows when a route is missing on this server or its service is not set up. */
export function unavailableNotice(error, what) {
  const reason = error.status === 404 ? "is not available on this server yet" : "is not configured";
  return notice("info", h("p", {}, `${what} ${reason}.`), error.status === 404 ? null : h("p", { class: "muted" }, plainWords(error)));
}

/**
 * Runs an action from a button: disables it, says it is working, then shows the result or the
 * error in `output`. Answers the action's data, or undefined when it failed.
 */
export async function runAction(button, output, label, work, describe = () => "Done.") {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  fill(output, notice("info", h("p", {}, `${label}: working…`), h("progress", { "aria-label": `${label} in progress` })));
  try {
    const data = await work();
    fill(output, notice("success", h("p", {}, h("strong", {}, `${label}: `), describe(data))));
    return data;
  } catch (error) {
    fill(output, errorNotice(error, `${label} failed`));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** "#Count" is a number column. */
const headerClass = (name) => (name.startsWith("#") ? "num" : null);

/**
 * A table that becomes a list of cards where it has no room for its columns (a phone, or a narrow
 * card: app.css's container query): each cell then shows its column's name, from data-label.
 */
export function table(caption, headers, rows) {
  const labels = headers.map((name) => name.replace(/^#/, ""));
  for (const row of rows.flat(Infinity)) {
    if (!(row instanceof Element)) continue;
    [...row.children].forEach((cell, i) => {
      if (labels[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[i]);
    });
  }
  // Two columns fit anywhere; more become cards where there is no room (app.css).
  return h(
    "div",
    { class: headers.length > 2 ? "table-wrap stack" : "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "muted" }, caption) : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((name) => h("th", { scope: "col", class: headerClass(name) }, name.replace(/^#/, ""))),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}
