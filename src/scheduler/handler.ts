import { getConfig } from "../config";
import { primaryDatabase } from "../db/client";
import { dispatch } from "./dispatch";

/**
 * The Worker's `scheduled()` handler: the one Cron Trigger fired (wrangler.toml), so the
 * dispatcher runs every task whose own cron came due since the last tick, each recorded in
 * `tasks`. Any trigger dispatches (a leftover trigger of an older deploy only ticks again).
 */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (controller, env) => {
  await dispatch({ db: primaryDatabase(env), env, config: getConfig(env) }, new Date(controller.scheduledTime));
};
