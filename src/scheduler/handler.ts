import { primaryDatabase } from "../db/client";
import { runCron } from "../services/scheduler";

/**
 * The Worker's `scheduled()` handler: a Cron Trigger fired (wrangler.toml `[triggers] crons`), so
 * the tasks of that cron run now, as src/scheduler/tasks.ts lists them, each recorded in `tasks`.
 * Needs no request, only the D1 binding; the invocation lasts until the tasks are recorded.
 */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) => {
  await runCron(primaryDatabase(env), controller.cron, new Date(controller.scheduledTime));
};
