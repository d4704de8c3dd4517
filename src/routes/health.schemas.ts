import { z } from "zod";
import { timestamp } from "../openapi/schemas";

/** One probe of src/services/health.ts; the fields beside `status` depend on the probe and its result. */
export const check = z.strictObject({
  status: z.enum(["ok", "warning", "error"]),
  latency_ms: z.number().optional(),
  detail: z.string().optional(),
  applied: z.number().int().optional().meta({ description: "Migrations applied (all bundled ones)" }),
  pending: z.array(z.string()).optional().meta({ description: "Bundled migrations not applied yet" }),
  environment: z.string().optional(),
  problems: z.array(z.string()).optional().meta({ description: "Configuration problems (never in production)" }),
});

const version = {
  version: z.string(),
  worker_version: z
    .strictObject({ id: z.string().nullable(), tag: z.string().nullable() })
    .meta({ description: "The Cloudflare version id and tag of this deployment" }),
  timestamp,
};

export const healthSchema = z.strictObject({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  ...version,
  checks: z.strictObject({ database: check, migrations: check, configuration: check, rate_limiter: check }),
});

export const liveSchema = z.strictObject({ status: z.literal("alive"), ...version });

export const readySchema = z.strictObject({
  status: z.enum(["ready", "not_ready"]),
  ...version,
  checks: z.strictObject({ database: check, migrations: check, configuration: check }),
});
