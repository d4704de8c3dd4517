import { app } from "./app";
import { scheduled } from "./scheduler/handler";

export { RateLimiter } from "./rate-limit/durable-object";

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
