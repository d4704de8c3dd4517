import { vi } from "vitest";

/**
 * A fake outside service: every `fetch` the Worker makes goes to `handler` instead of the network
 * (tests never reach the internet). Each request is recorded, body included, for assertions.
 */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

export type FakeHandler = (request: Request, url: URL) => Response | Promise<Response>;

export function fakeUpstream(handler: FakeHandler) {
  const calls: RecordedRequest[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    let request = new Request(input as RequestInfo, init);
    // As the real fetch: a redirect is followed (at most 20 times) unless the caller asked for "manual".
    for (let hops = 0; ; hops++) {
      const body = request.body ? await request.clone().text() : "";
      calls.push({ method: request.method, url: new URL(request.url), headers: request.headers, body });
      const response = await handler(request, new URL(request.url));
      const location = response.headers.get("Location");
      if (request.redirect === "manual" || response.status < 300 || response.status > 399 || !location) return response;
      if (hops >= 20) throw new TypeError("Too many redirects");
      request = new Request(new URL(location, request.url), { method: "GET", headers: request.headers, signal: request.signal });
    }
  });
  return { calls, spy };
}

/** A JSON answer. */
export const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), { ...init, headers: { "Content-Type": "application/json", ...init.headers } });

/** Never answers; rejects when the caller aborts, as a real fetch does. */
export function hang(request: Request): Promise<Response> {
  return new Promise((_, reject) => {
    request.signal.addEventListener("abort", () => reject(new DOMException("The operation was aborted", "AbortError")));
  });
}

/** Collects every console line (log, info, warn, error) written while a test runs. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation(
      (...args: unknown[]) =>
        void lines.push(
          args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(" "),
        ),
    );
  }
  return lines;
}

/**
 * A Workers VPC service binding (`ABS_VPC`, `QB_VPC`, `PROWLARR_VPC`): its `fetch` takes the
 * request the Worker addresses to the home service's own URL and delivers it there (here: to the
 * fake upstream the test set up). `seen` records each request that went through it.
 */
export function fakeVpcBinding() {
  const seen: { method: string; url: URL }[] = [];
  const binding = {
    fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      seen.push({ method: request.method, url: new URL(request.url) });
      return globalThis.fetch(request);
    },
  };
  return { binding, seen };
}

/** The handler a fake just installed as `fetch`, to route to it with others (`fakeOrigins`). */
export function handlerOf(fake: ReturnType<typeof fakeUpstream>) {
  const handler = fake.spy.getMockImplementation();
  if (!handler) throw new Error("The fake installed no handler");
  return handler;
}

/**
 * Several outside services in one invocation: each fake installs itself as `fetch` (the last one
 * wins), so a test keeps each one's handler (`handlerOf`, right after making it) and routes every
 * request to the handler of its URL's origin; each fake still records its own calls. `calls`: every
 * request, in order.
 */
export function fakeOrigins(handlers: Record<string, ReturnType<typeof handlerOf>>) {
  const calls: URL[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(url);
    const handler = handlers[url.origin];
    if (!handler) throw new TypeError(`fetch failed: no fake answers ${url.origin}`);
    return handler(input, init);
  });
  return { calls, spy };
}
