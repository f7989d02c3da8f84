#!/bin/sh
# Runs the controller (or any kubemirror command) under `deno run` with the compiled binary's permissions:
# network, environment, and read access to the kubeconfig and the service-account files only.
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
reads="$(printf '%s' "$kubeconfig" | tr ':' ','),/var/run/secrets/kubernetes.io/serviceaccount"
exec "${DENO:-deno}" run --no-prompt --allow-net --allow-env --allow-read="$reads" "$here/mod.ts" "$@"
