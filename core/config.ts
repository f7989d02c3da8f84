/**
 * The controller settings the core depends on, with the defaults of docs/CONTRACT.md §6.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG, type MirrorConfig } from "./config.ts";
 * const config: MirrorConfig = { ...DEFAULT_CONFIG, maxTargets: 20 };
 * ```
 * @module
 */
import { DEFAULT_CLUSTER_NAME } from "./markers.ts";

/** Limits on transformations (section 5). */
export interface TransformLimits {
  maxRules: number;
  maxRuleBytes: number;
  timeoutMs: number;
  maxRenderedBytes: number;
}

/** Everything in the controller's flags that shapes a plan. */
export interface MirrorConfig {
  /** Globs; added to the always-excluded system namespaces. */
  excludedNamespaces: string[];
  /** Globs; when not empty, only these namespaces receive mirrors. */
  includedNamespaces: string[];
  /** Globs; when not empty, only sources in these namespaces are mirrored. */
  sourceNamespaces: string[];
  requireNamespaceOptIn: boolean;
  maxTargets: number;
  stripLabelPrefixes: string[];
  stripAnnotationPrefixes: string[];
  transformLimits: TransformLimits;
  /** `--cluster-name` (§10): what upstream sources' `target-clusters` are matched against; `local` when absent. */
  clusterName?: string;
  /**
   * `group/Kind` of every kind named in `--resource-types`: only those may mirror objects that run code
   * in the target namespace (a pod template).
   */
  namedKinds?: string[];
}

/** The defaults of docs/CONTRACT.md §6. */
export const DEFAULT_TRANSFORM_LIMITS: TransformLimits = {
  maxRules: 50,
  maxRuleBytes: 10 * 1024,
  timeoutMs: 100,
  maxRenderedBytes: 1024 * 1024,
};

/** The defaults of docs/CONTRACT.md §6. */
export const DEFAULT_CONFIG: MirrorConfig = {
  excludedNamespaces: [],
  includedNamespaces: [],
  sourceNamespaces: [],
  requireNamespaceOptIn: false,
  maxTargets: 100,
  stripLabelPrefixes: [],
  stripAnnotationPrefixes: [],
  transformLimits: DEFAULT_TRANSFORM_LIMITS,
  clusterName: DEFAULT_CLUSTER_NAME,
};
