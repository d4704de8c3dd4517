import { getConfig } from "../config";

/**
 * The Worker's `scheduled()` handler: the one Cron Trigger fired (wrangler.toml), so the
 * dispatcher runs every task whose own cron came due since the last tick, each recorded in
 * `tasks`. Any trigger dispatches (a leftover trigger of an older deploy only ticks again).
 * The dispatcher, its tasks, their services and drizzle load on the first tick: an isolate that
 * only answers requests never evaluates them at startup (npm run bench -- startup).
 */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) => {
  const [{ dispatch }, { primaryDatabase }] = await Promise.all([import("./dispatch"), import("../db/client")]);
  await dispatch({ db: primaryDatabase(env), env, config: getConfig(env) }, new Date(controller.scheduledTime));
};
