import packageJson from "../package.json";

/** The service version reported by `/health` and `/api/info`: the one in package.json. */
export const VERSION: string = packageJson.version;
