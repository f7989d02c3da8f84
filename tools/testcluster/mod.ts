/**
 * The test control plane: build it from Go modules, start it, stop it.
 *
 * @example
 * ```ts
 * import { withCluster } from "./mod.ts";
 * await withCluster(async (c) => console.log(c.server));
 * ```
 * @module
 */
export * from "./build.ts";
export * from "./cluster.ts";
