/** What no identity of KubeMirror may do (each a path to cluster-admin): what a cluster-admin would ask about a ServiceAccount before trusting it. */
export const ESCALATIONS: { what: string; attrs: Record<string, string> }[] = [
  { what: "create pods", attrs: { verb: "create", resource: "pods", namespace: "default" } },
  {
    what: "create pods/exec",
    attrs: { verb: "create", resource: "pods", subresource: "exec", namespace: "default" },
  },
  {
    what: "create clusterrolebindings",
    attrs: { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" },
  },
  {
    what: "bind clusterroles",
    attrs: { verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  },
  {
    what: "escalate clusterroles",
    attrs: { verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  },
  { what: "impersonate users", attrs: { verb: "impersonate", resource: "users" } },
  {
    what: "create serviceaccounts/token",
    attrs: { verb: "create", resource: "serviceaccounts", subresource: "token", namespace: "kube-system" },
  },
  { what: "delete namespaces", attrs: { verb: "delete", resource: "namespaces" } },
  { what: "update nodes", attrs: { verb: "update", resource: "nodes" } },
  {
    what: "update customresourcedefinitions",
    attrs: { verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions" },
  },
  {
    what: "create mutatingwebhookconfigurations",
    attrs: {
      verb: "create",
      group: "admissionregistration.k8s.io",
      resource: "mutatingwebhookconfigurations",
    },
  },
  {
    what: "create validatingwebhookconfigurations",
    attrs: {
      verb: "create",
      group: "admissionregistration.k8s.io",
      resource: "validatingwebhookconfigurations",
    },
  },
  {
    what: "update leases in kube-system",
    attrs: { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system" },
  },
  {
    what: "create leases in kube-system",
    attrs: { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system" },
  },
];
