/**
 * Path helpers on `node:path` and `node:url`, for test tooling.
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The file path of a file URL. */
export const fromFileUrl = (url: string | URL): string => fileURLToPath(url);
export { dirname };
