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
    const request = new Request(input as RequestInfo, init);
    const body = request.body ? await request.clone().text() : "";
    calls.push({ method: request.method, url: new URL(request.url), headers: request.headers, body });
    return handler(request, new URL(request.url));
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
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(" ")));
  }
  return lines;
}
