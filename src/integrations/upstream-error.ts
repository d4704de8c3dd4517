import { SERVICE_LABELS, type ServiceName } from "../config";
import { AppError, type ErrorCode } from "../errors";

// How a call to an outside service fails (./http.ts throws it; the service clients and the tasks read it).

/**
 * Who is called: an outside service, or a notification endpoint an admin registered
 * (src/integrations/notify.ts), which is not an integration of /api/integrations.
 */
export type CalledService = ServiceName | "notification";

/** Display names, for messages. */
export const CALLED_LABELS: Record<CalledService, string> = { ...SERVICE_LABELS, notification: "The notification endpoint" };

/** The error code of each service's failures (502). */
const ERROR_CODES: Record<CalledService, ErrorCode> = {
  audiobookshelf: "audiobookshelf_error",
  qbittorrent: "qbittorrent_error",
  prowlarr: "external_api_error",
  google_books: "external_api_error",
  audible: "external_api_error",
  notification: "external_api_error",
};

export type UpstreamFailure =
  /** The service answered a status the caller did not expect. */
  | "status"
  /** No answer: DNS, connection refused, reset. */
  | "unreachable"
  /** No complete answer within the deadline. */
  | "timeout"
  /** An answer that is not what the service documents (HTML, not JSON, a wrong shape). */
  | "shape";

/** A failed upstream call: 502 with the service's code. Carries nothing the upstream sent. */
export class UpstreamError extends AppError {
  readonly service: CalledService;
  readonly failure: UpstreamFailure;
  /** The upstream's HTTP status, for `status` failures. */
  readonly upstreamStatus: number | undefined;
  /** A 429/503's `Retry-After` that was longer than the call's deadline allowed waiting for. */
  readonly retryAfterMs: number | undefined;

  constructor(
    service: CalledService,
    failure: UpstreamFailure,
    detail: string,
    extra: { upstreamStatus?: number; retryAfterMs?: number } = {},
  ) {
    super(ERROR_CODES[service], `${CALLED_LABELS[service]} request failed`, { detail });
    this.service = service;
    this.failure = failure;
    this.upstreamStatus = extra.upstreamStatus;
    this.retryAfterMs = extra.retryAfterMs;
  }
}
