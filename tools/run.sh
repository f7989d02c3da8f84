#!/bin/sh
# Runs the controller (or any kubemirror command) under `deno run` with the compiled binary's permissions:
# network, environment, and read access to the kubeconfig, the service-account files and the system CA
# bundles only.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kubeconfig="${KUBECONFIG:-$HOME/.kube/config}"
prev=""
for arg in "$@"; do
  case "$arg" in
    --kubeconfig=*) kubeconfig="${arg#--kubeconfig=}" ;;
  esac
  if [ "$prev" = "--kubeconfig" ]; then kubeconfig="$arg"; fi
  prev="$arg"
done
# The system CA bundles, for clusters whose kubeconfig has no CA: the one list is SYSTEM_CA_BUNDLES.
cas=$("${DENO:-deno}" run --quiet --no-lock "$here/shell/kube/system_ca.ts")
reads="$(printf '%s' "$kubeconfig" | tr ':' ','),/var/run/secrets/kubernetes.io/serviceaccount,$cas${SSL_CERT_FILE:+,$SSL_CERT_FILE}"
exec "${DENO:-deno}" run --no-prompt --allow-net --allow-env --allow-read="$reads" "$here/mod.ts" "$@"
