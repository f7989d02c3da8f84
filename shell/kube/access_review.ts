/**
 * Asks the API server what the controller's own identity may do with a kind (SelfSubjectAccessReview),
 * so that discovery watches only the kinds it may serve and names the missing rights for the rest,
 * instead of retrying Forbidden answers forever.
 *
 * @example
 * ```ts
 * import { missingVerbs } from "./access_review.ts";
 * import type { KubeClient } from "./client.ts";
 * declare const api: KubeClient;
 * const missing = await missingVerbs(api, { group: "", version: "v1", kind: "Secret", plural: "secrets" });
 * // [] when every verb is allowed, e.g. ["create", "update"] otherwise
 * ```
 * @module
 */
import { MIRROR_VERBS, type MirrorableKind } from "../../core/mirrorable.ts";
import type { KubeClient } from "./client.ts";

async function allowed(api: KubeClient, kind: MirrorableKind, verb: string): Promise<boolean> {
  const review = await api.request<{ status?: { allowed?: boolean } }>(
    "POST",
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        // No namespace: the controller reads sources and writes mirrors in every namespace.
        spec: { resourceAttributes: { group: kind.group, resource: kind.plural, verb } },
      },
    },
  );
  return review?.status?.allowed === true;
}

/**
 * The verbs of {@link MIRROR_VERBS} that the controller may not use on `kind` cluster-wide. When it may
 * not even list, the other verbs are not asked about (one request for a kind it cannot serve at all).
 */
export async function missingVerbs(api: KubeClient, kind: MirrorableKind): Promise<string[]> {
  if (!(await allowed(api, kind, "list"))) return [...MIRROR_VERBS];
  const others = MIRROR_VERBS.filter((v) => v !== "list");
  const answers = await Promise.all(others.map((v) => allowed(api, kind, v)));
  return others.filter((_, i) => !answers[i]);
}
