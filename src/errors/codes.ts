import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code the service can answer with, and its HTTP status. The list is the original Python
 * backend's ErrorCode enum plus the codes this service adds
 * (method_not_allowed, payload_too_large, unsupported_media_type, account_locked,
 * configuration_error). Codes the original left without a fixed status get the one that fits.
 */
export const ERROR_STATUS = {
  // 400
  validation_error: 422,
  invalid_input: 400,
  malformed_request: 400,
  missing_field: 400,
  // 401
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  no_authentication: 401,
  // 403
  forbidden: 403,
  insufficient_permissions: 403,
  access_denied: 403,
  // 404, 405
  not_found: 404,
  resource_not_found: 404,
  endpoint_not_found: 404,
  method_not_allowed: 405,
  // 409
  conflict: 409,
  duplicate_resource: 409,
  resource_exists: 409,
  // 413, 415, 422, 423
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable_entity: 422,
  account_locked: 423,
  // 429
  rate_limit_exceeded: 429,
  too_many_requests: 429,
  // 500
  internal_error: 500,
  internal_server_error: 500,
  unknown_error: 500,
  processing_error: 500,
  async_task_failed: 500,
  // 502
  bad_gateway: 502,
  upstream_error: 502,
  external_api_error: 502,
  audiobookshelf_error: 502,
  qbittorrent_error: 502,
  mam_crawl_error: 502,
  download_failed: 502,
  metadata_error: 502,
  // 503
  service_unavailable: 503,
  maintenance: 503,
  configuration_error: 503,
  database_error: 503,
  database_connection_error: 503,
  transaction_failed: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
