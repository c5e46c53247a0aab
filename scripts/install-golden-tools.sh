#!/usr/bin/env bash
# The daemonless OCI tools of the golden-image test (images/golden/, test/guest/golden/), built
# from the Go module proxy into versioned cache entries (scripts/cache-entry.sh: locked,
# atomic), and printed as `name=path` lines on stdout:
#
#   ~/.cache/virtwork/oci-tools/crane-<version>/bin/crane        go-containerregistry's crane
#   ~/.cache/virtwork/oci-tools/registry-<version>/bin/registry  the distribution registry
#
# Cold: about 2-4 min on 2 cores (module download + build); warm: returns at once.
set -euo pipefail

CRANE_VERSION=${CRANE_VERSION:-v0.22.1}
REGISTRY_VERSION=${REGISTRY_VERSION:-v3.1.2}
VIRTWORK_CACHE=${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork}
TOOLS="$VIRTWORK_CACHE/oci-tools"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cache-entry.sh
source "$HERE/cache-entry.sh"

if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && export PATH="$d:$PATH" && break; done
fi
command -v go >/dev/null 2>&1 || { echo "golden tools: a Go toolchain is needed (go install from the module proxy)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0

ready_bin() { [ -x "$1/bin/$(basename "$1" | sed -E 's/-v[0-9].*$//')" ]; }

build_crane() {
  mkdir -p "$1/out/bin"
  GOBIN="$1/out/bin" go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" >&2
}
build_registry() {
  mkdir -p "$1/out/bin"
  GOBIN="$1/out/bin" go install "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION" >&2
}

cache_entry "$TOOLS/crane-$CRANE_VERSION" ready_bin build_crane
cache_entry "$TOOLS/registry-$REGISTRY_VERSION" ready_bin build_registry
echo "crane=$TOOLS/crane-$CRANE_VERSION/bin/crane"
echo "registry=$TOOLS/registry-$REGISTRY_VERSION/bin/registry"
