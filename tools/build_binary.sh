#!/bin/sh
# Builds the controller's single binary, as the Dockerfile's build stage does (it runs this script):
# bundle first (one minified JS file: `deno compile` of mod.ts itself overflows its stack packing the npm
# packages' files), then compile the bundle with the controller's permissions: network, environment, and
# read access to the service-account files and the system CA bundles only. No write, run, sys or FFI.
# Usage: sh tools/build_binary.sh OUTPUT
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deno bundle --frozen --minify --platform=deno -o "$work/kubemirror.js" "$here/mod.ts"
deno compile --frozen --no-prompt \
  --allow-net --allow-env \
  --allow-read=/var/run/secrets/kubernetes.io/serviceaccount,/etc/ssl/certs/ca-certificates.crt,/etc/pki/tls/certs/ca-bundle.crt,/etc/ssl/ca-bundle.pem,/etc/pki/tls/cacert.pem,/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem,/etc/ssl/cert.pem \
  --output "$out" "$work/kubemirror.js"
