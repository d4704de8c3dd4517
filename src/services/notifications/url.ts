import type { NotificationKind } from "../../db/schema";
import { ValidationError } from "../../errors";
import { DISCORD_WEBHOOK } from "../../integrations/discord";

// An endpoint's URL: what is accepted (README, "Notifications") and how it is shown once stored.

/**
 * Hosts refused in production: loopback, private, link-local and unique-local literals and
 * `localhost`. A Worker's fetch runs at Cloudflare's edge, so it cannot reach this network's
 * private addresses anyway; refusing them says so at registration instead of failing every send.
 * A DNS name that resolves to a private address is not looked up (a Worker cannot resolve first).
 */
const PRIVATE_HOST =
  /^(?:localhost|.*\.localhost|.*\.local|.*\.internal|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(?:1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[(?:::1?|f[cd][0-9a-f]*:.*|fe80:.*)\])$/i;

const refuse = (message: string, code = "invalid_url") => new ValidationError([{ path: "body.url", message, code }]);

/** The URL to send to, or a 422 naming what is wrong (never echoing the URL, which may hold a token). */
export function checkedUrl(kind: NotificationKind, raw: string, production: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refuse("must be an http(s) URL");
  if (production && url.protocol !== "https:") throw refuse("must be https in production");
  if (url.username || url.password) throw refuse("must not carry credentials (user:password@); ntfy takes a token instead");
  if (url.hash) throw refuse("must not have a fragment");
  if (production && PRIVATE_HOST.test(url.hostname))
    throw refuse("must be a public address in production (the Worker runs at Cloudflare's edge)");
  if (kind === "discord" && !DISCORD_WEBHOOK.test(url.href))
    throw refuse("must be a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)");
  // A topic is the last segment (a self-hosted server may sit below a path).
  if (kind === "ntfy" && (url.search || !/\/[\w-]{1,64}$/.test(url.pathname)))
    throw refuse("must be an ntfy topic URL (https://ntfy.example/<topic>), without a query");
  return url;
}

/** The URL as listed: Discord's token and most of an ntfy topic (a topic name is its password) hidden, a query dropped. */
export function maskedUrl(kind: NotificationKind, url: URL): string {
  if (kind === "discord") {
    const [, id] = DISCORD_WEBHOOK.exec(url.href) ?? [];
    return `${url.origin}/api/webhooks/${id ?? "…"}/••••`;
  }
  if (kind === "ntfy") {
    const at = url.pathname.lastIndexOf("/") + 1;
    return `${url.origin}${url.pathname.slice(0, at)}${url.pathname.slice(at, at + 2)}••••`;
  }
  return `${url.origin}${url.pathname}${url.search ? "?••••" : ""}`;
}
