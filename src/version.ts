// A named import: the bundle keeps the version string, not the whole package.json.
import { version } from "../package.json";

/** The service version reported by `/health` and `/api/info`: the one in package.json. */
export const VERSION: string = version;

/** The Cloudflare Worker version answering: its id, and the tag `wrangler versions upload --tag` gave it. */
export interface WorkerVersion {
  id: string | null;
  tag: string | null;
}

/**
 * From the `version_metadata` binding (wrangler.toml). Two versions serve side by side during a
 * gradual deploy; this is how a smoke check and the request log tell them apart. An untagged
 * version has an empty tag: reported as null.
 */
export function workerVersion(env: Pick<Env, "CF_VERSION_METADATA">): WorkerVersion {
  const metadata = env.CF_VERSION_METADATA as WorkerVersionMetadata | undefined;
  return { id: metadata?.id || null, tag: metadata?.tag || null };
}
