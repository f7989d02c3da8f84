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
# The system CA bundles, for clusters whose kubeconfig has no CA (see SYSTEM_CA_BUNDLES in shell/kube_api.ts).
cas="/etc/ssl/certs/ca-certificates.crt,/etc/pki/tls/certs/ca-bundle.crt,/etc/ssl/ca-bundle.pem,/etc/pki/tls/cacert.pem,/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem,/etc/ssl/cert.pem"
reads="$(printf '%s' "$kubeconfig" | tr ':' ','),/var/run/secrets/kubernetes.io/serviceaccount,$cas${SSL_CERT_FILE:+,$SSL_CERT_FILE}"
exec "${DENO:-deno}" run --no-prompt --allow-net --allow-env --allow-read="$reads" "$here/mod.ts" "$@"
