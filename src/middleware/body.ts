import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context";
import { PayloadTooLargeError, UnsupportedMediaTypeError } from "../errors";

const MB = 1024 * 1024;
/** Bodies up to 1 MB, 5 MB on `upload`-tier routes (bulk import). */
export const MAX_BODY_BYTES = { default: 1 * MB, upload: 5 * MB } as const;

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Request bodies are JSON and bounded: anything else is refused before a handler reads it.
 * The size is checked on the stream, so a body without Content-Length cannot slip through.
 */
export function jsonBody(): MiddlewareHandler<AppEnv> {
  const limiters = {
    default: bodyLimit({
      maxSize: MAX_BODY_BYTES.default,
      onError: () => {
        throw new PayloadTooLargeError(MAX_BODY_BYTES.default);
      },
    }),
    upload: bodyLimit({
      maxSize: MAX_BODY_BYTES.upload,
      onError: () => {
        throw new PayloadTooLargeError(MAX_BODY_BYTES.upload);
      },
    }),
  };
  return async function jsonBody(c, next) {
    // No route (404/405 follow) or no body: nothing to check.
    const policy = c.get("policy");
    if (!policy || !c.req.raw.body) return next();
    const contentType = c.req.header("Content-Type");
    const length = c.req.header("Content-Length");
    if (length !== "0" && !JSON_TYPE.test(contentType ?? "")) throw new UnsupportedMediaTypeError(contentType);
    return limiters[policy.tier === "upload" ? "upload" : "default"](c, next);
  };
}
