import { app } from "./app";

export { RateLimiter } from "./rate-limit/durable-object";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
