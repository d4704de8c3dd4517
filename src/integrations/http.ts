import type { z } from "zod";
import type { UpstreamSettings } from "../config";
import { VERSION } from "../version";
import { readAtMost } from "./read-at-most";
import { backoff, retryAfter, sleep } from "./retry";
import { CALLED_LABELS, type CalledService, UpstreamError } from "./upstream-error";

/**
 * The one way this Worker calls an outside service (README, "Connecting your services"): a deadline per
 * call, retries with jittered backoff for idempotent reads only, `Retry-After` honoured, answers
 * parsed with zod, the Cloudflare Access service token for self-hosted services, and failures as
 * 502/503 in the standard error shape. Errors and log lines name the service, the method, the
 * upstream status and the path: never a query string (Google's key travels there), a header, a
 * credential or anything the upstream sent back.
 */

export { retryAfter } from "./retry";
export { UpstreamError, type UpstreamFailure } from "./upstream-error";

/** Services reached through a Cloudflare Tunnel, which get the Access service-token headers. */
const SELF_HOSTED: ReadonlySet<CalledService> = new Set(["audiobookshelf", "qbittorrent", "prowlarr"]);

const DEFAULT_RETRIES = 2;
const DEFAULT_BACKOFF_MS = 250;
/**
 * The most of an answer read, by default: the isolate has 128 MB, and no answer this Worker asks
 * for comes near this (a page of 500 Audiobookshelf items is about 1 MB). Larger is a `shape` 502,
 * read no further than the limit.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A request body: JSON, an HTML form, multipart form data, or text. */
export type UpstreamBody =
  | { json: unknown }
  | { form: Record<string, string> }
  | { multipart: Record<string, string | Blob> }
  | { text: string; contentType: string };

export interface UpstreamRequest {
  method?: HttpMethod;
  /** Path below the base URL, starting with "/", without a query string. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: UpstreamBody;
  /**
   * Non-2xx statuses the caller handles itself (qBittorrent's 409 for a duplicate, 403 for an
   * expired session); any other non-2xx is an UpstreamError.
   */
  accept?: readonly number[];
  /**
   * Whether repeating the call is harmless. Default: true for GET and HEAD, false otherwise, so
   * writes (adding a torrent, patching ABS) are never retried blindly.
   */
  idempotent?: boolean;
  /** The most of the answer read (default: the client's, else DEFAULT_MAX_ANSWER_BYTES). */
  maxBytes?: number;
}

/** What came back: status, headers (Set-Cookie included, for the service client only) and text. */
export interface UpstreamResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface ServiceClientOptions {
  service: CalledService;
  baseUrl: string;
  /** Deadline and Access token, from the configuration. */
  upstream: Pick<UpstreamSettings, "timeoutMs" | "accessToken">;
  /** Credential headers sent on every call (ABS bearer, Prowlarr X-Api-Key). */
  authHeaders?: Record<string, string>;
  /** Credential query parameters sent on every call (Google's `key`). */
  authQuery?: Record<string, string>;
  /** Where requests go: a Workers VPC service binding, or (default) the global fetch. */
  fetcher?: { fetch: typeof fetch };
  /** Retries of an idempotent call (default 2). */
  retries?: number;
  /** Base of the exponential, fully jittered backoff (default 250 ms). */
  backoffMs?: number;
  /** The most of an answer read (default DEFAULT_MAX_ANSWER_BYTES). */
  maxBytes?: number;
}

/** One outside service, called through `request` / `json` / `text`. */
export class ServiceClient {
  readonly service: CalledService;
  private readonly options: ServiceClientOptions;

  constructor(options: ServiceClientOptions) {
    this.service = options.service;
    this.options = options;
  }

  /** The response, whatever its body; non-2xx statuses not in `accept` throw. */
  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    const method = request.method ?? "GET";
    const idempotent = request.idempotent ?? (method === "GET" || method === "HEAD");
    const retries = idempotent ? (this.options.retries ?? DEFAULT_RETRIES) : 0;
    const timeoutMs = this.options.upstream.timeoutMs;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const where = `${method} ${request.path}`;
    const label = CALLED_LABELS[this.service];

    for (let attempt = 0; ; attempt++) {
      let error: UpstreamError;
      let retryAfterMs: number | undefined;
      const outcome = await this.attempt(request, method, deadline);
      if ("response" in outcome) {
        const { response } = outcome;
        const accepted = (response.status >= 200 && response.status < 300) || request.accept?.includes(response.status);
        if (accepted) return response;
        error = new UpstreamError(this.service, "status", statusDetail(label, response.status, where), { upstreamStatus: response.status });
        const retryable = response.status === 429 || response.status >= 500;
        if (!retryable || attempt >= retries) return this.fail(error, attempt, started);
        retryAfterMs = retryAfter(response.headers.get("Retry-After"));
      } else if (outcome.failure === "too_large") {
        // The same answer again would be as large: never retried.
        const limit = Math.round(outcome.maxBytes / 1024 / 1024);
        return this.fail(
          new UpstreamError(this.service, "shape", `${label} answered ${where} with more than ${limit} MB`),
          attempt,
          started,
        );
      } else {
        error =
          outcome.failure === "timeout"
            ? new UpstreamError(this.service, "timeout", `${label} did not answer ${where} within ${timeoutMs} ms`)
            : new UpstreamError(this.service, "unreachable", `${label} could not be reached (${where})`);
        if (outcome.failure === "timeout" || attempt >= retries) return this.fail(error, attempt, started);
      }
      const wait = retryAfterMs ?? backoff(this.options.backoffMs ?? DEFAULT_BACKOFF_MS, attempt);
      if (Date.now() + wait >= deadline) {
        // The service asked for (or the backoff needs) more time than the deadline leaves.
        const upstreamStatus = error.upstreamStatus;
        return this.fail(new UpstreamError(this.service, error.failure, error.detail!, { upstreamStatus, retryAfterMs }), attempt, started);
      }
      await sleep(wait);
    }
  }

  /** The body as text (qBittorrent's `Ok.`, its `v5.0.1`). */
  async text(request: UpstreamRequest): Promise<string> {
    return (await this.request(request)).text;
  }

  /** The body parsed as JSON and checked with `schema`; anything else is a `shape` UpstreamError. */
  async json<S extends z.ZodType>(request: UpstreamRequest, schema: S): Promise<z.output<S>> {
    const response = await this.request(request);
    return this.parse(response, schema, request);
  }

  /** Parses an already fetched response (for callers that looked at its status or headers first). */
  parse<S extends z.ZodType>(response: UpstreamResponse, schema: S, request: UpstreamRequest): z.output<S> {
    const where = `${request.method ?? "GET"} ${request.path}`;
    const label = CALLED_LABELS[this.service];
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      throw this.logged(new UpstreamError(this.service, "shape", `${label} answered ${where} with something that is not JSON`));
    }
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    // The path of the first problem is made of our schema's keys and array indexes, never upstream text.
    const at = parsed.error.issues[0]?.path.map(String).join(".");
    throw this.logged(
      new UpstreamError(this.service, "shape", `${label} answered ${where} with an unexpected shape${at ? ` (at ${at})` : ""}`),
    );
  }

  private async attempt(
    request: UpstreamRequest,
    method: HttpMethod,
    deadline: number,
  ): Promise<{ response: UpstreamResponse } | { failure: "timeout" | "unreachable" } | { failure: "too_large"; maxBytes: number }> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { failure: "timeout" };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), remaining);
    try {
      const fetcher = this.options.fetcher ?? globalThis;
      const res = await fetcher.fetch(this.url(request), {
        method,
        headers: this.headers(request),
        body: encodeBody(request.body),
        // A redirect is an answer, not something to follow with our credentials (Access sends
        // one to its login page when the service token is missing).
        redirect: "manual",
        signal: controller.signal,
      });
      const maxBytes = request.maxBytes ?? this.options.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
      const text = await readAtMost(res, maxBytes);
      if (text === undefined) return { failure: "too_large", maxBytes };
      return { response: { status: res.status, headers: res.headers, text } };
    } catch {
      return { failure: controller.signal.aborted ? "timeout" : "unreachable" };
    } finally {
      clearTimeout(timer);
    }
  }

  private url(request: UpstreamRequest): string {
    const url = new URL(this.options.baseUrl + request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    for (const [name, value] of Object.entries(this.options.authQuery ?? {})) url.searchParams.set(name, value);
    return url.href;
  }

  private headers(request: UpstreamRequest): Headers {
    const headers = new Headers({ "User-Agent": `mamcrawler-api/${VERSION}`, Accept: "application/json, text/plain;q=0.9" });
    const access = this.options.upstream.accessToken;
    if (access && SELF_HOSTED.has(this.service)) {
      headers.set("CF-Access-Client-Id", access.clientId);
      headers.set("CF-Access-Client-Secret", access.clientSecret);
    }
    for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, value);
    for (const [name, value] of Object.entries(this.options.authHeaders ?? {})) headers.set(name, value);
    if (request.body && "json" in request.body) headers.set("Content-Type", "application/json");
    if (request.body && "text" in request.body) headers.set("Content-Type", request.body.contentType);
    return headers;
  }

  /** Logs the failure once, by name and status only, and throws it. */
  private fail(error: UpstreamError, attempt: number, started: number): never {
    throw this.logged(error, { attempts: attempt + 1, duration_ms: Date.now() - started });
  }

  private logged(error: UpstreamError, extra: Record<string, unknown> = {}): UpstreamError {
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "upstream_failed",
        service: this.service,
        failure: error.failure,
        upstream_status: error.upstreamStatus,
        detail: error.detail,
        ...extra,
      }),
    );
    return error;
  }
}

function statusDetail(label: string, status: number, where: string): string {
  const hint =
    status === 401 || status === 403
      ? ": check its credentials"
      : status >= 300 && status < 400
        ? ": a redirect (behind Cloudflare Access without the service token, or a wrong base URL?)"
        : status === 429
          ? ": rate limited or over quota"
          : "";
  return `${label} answered ${status} to ${where}${hint}`;
}

function encodeBody(body: UpstreamBody | undefined): BodyInit | undefined {
  if (!body) return undefined;
  if ("json" in body) return JSON.stringify(body.json);
  if ("form" in body) return new URLSearchParams(body.form);
  if ("multipart" in body) {
    const form = new FormData();
    for (const [name, value] of Object.entries(body.multipart)) form.append(name, value);
    return form;
  }
  return body.text;
}
