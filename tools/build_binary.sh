#!/bin/sh
# Builds the controller's single binary, as the Dockerfile's build stage does (it runs this script):
# bundle first (one minified JS file: `deno compile` of mod.ts itself overflows its stack packing the npm
# packages' files), then compile the bundle with the controller's runtime flags: network, environment, and
# read access to the service-account files and the system CA bundles only (no write, run, sys or FFI), and
# no V8 code cache (producing one at the first start costs ~45 MiB and a read-only root cannot keep it).
# Usage: sh tools/build_binary.sh OUTPUT           bundle and compile (the Dockerfile)
#        sh tools/build_binary.sh --bundle OUT.js  bundle only (the stand-in image, tools/image.ts)
#        sh tools/build_binary.sh --flags          the runtime flags compiled in, one per line
#        sh tools/build_binary.sh --plugin TARGET OUT.tar.gz
#                                                   the kubectl plugin for one platform (deno compile --target):
#                                                   kubectl-mirror[.exe] in a .tar.gz, for krew (plugins/mirror.yaml)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
flags() {
  # The system CA bundles, for clusters whose kubeconfig has no CA: the one list is SYSTEM_CA_BUNDLES.
  cas=$(deno run --quiet --no-lock "$here/shell/kube/system_ca.ts")
  printf '%s\n' --no-prompt --no-code-cache --allow-net --allow-env \
    "--allow-read=/var/run/secrets/kubernetes.io/serviceaccount,$cas"
}
bundle() {
  deno bundle --quiet --frozen --minify --platform=deno -o "$1" "$here/mod.ts"
}
# The plugin reads the user's kubeconfig wherever it is, and writes nothing: network, environment, reads.
plugin() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  bundle "$work/kubemirror.js"
  exe=kubectl-mirror
  case "$1" in *windows*) exe=kubectl-mirror.exe ;; esac
  mkdir "$work/pkg"
  deno compile --frozen --quiet --no-prompt --allow-net --allow-env --allow-read --target "$1" \
    --output "$work/pkg/$exe" "$work/kubemirror.js"
  cp "$here/README.md" "$work/pkg/README.md"
  tar -C "$work/pkg" -czf "$2" "$exe" README.md
}
case "${1:-}" in
  --flags) flags ;;
  --bundle) bundle "$2" ;;
  --plugin) plugin "$2" "$3" ;;
  "" | -*)
    echo "usage: sh tools/build_binary.sh OUTPUT | --bundle OUT.js | --flags | --plugin TARGET OUT.tar.gz" >&2
    exit 2
    ;;
  *)
    compiled=$(flags)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    bundle "$work/kubemirror.js"
    # shellcheck disable=SC2046 # one flag per line, none with spaces
    deno compile --frozen $compiled --output "$1" "$work/kubemirror.js"
    ;;
esac
