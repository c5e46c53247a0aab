# shellcheck shell=bash
# Common settings for the local test cluster scripts. Sourced, never executed.
# Everything built or downloaded lives OUTSIDE the clone, keyed by version.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.33.13}
KUBEVIRT_VERSION=${KUBEVIRT_VERSION:-v1.8.4}
CDI_VERSION=${CDI_VERSION:-v1.65.0}   # v1.64.0 is not served by the module proxy here (sumdb 404)
ETCD_VERSION=${ETCD_VERSION:-v3.5.21}   # the etcd that kubernetes 1.33 pins (checked by build.sh)
VIRTWORK_CACHE=${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork}
CLUSTER_CACHE="$VIRTWORK_CACHE/cluster"
CLUSTER_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_SRC_DIR/../.." && pwd)
# Where cluster-up writes its run state (kubeconfigs, pids, logs): fixed, git-ignored.
CLUSTER_DIR=${VIRTWORK_CLUSTER_DIR:-$REPO_ROOT/.cluster}

log() { printf '[cluster] %s\n' "$*" >&2; }
# cache_entry FINAL READY_FN BUILD_FN: private temp dir + flock + atomic rename.
# shellcheck source=../../scripts/cache-entry.sh
source "$REPO_ROOT/scripts/cache-entry.sh"
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

# Go: the machine's toolchain (the go machine kind ships it at /usr/local/go).
ensure_go() {
  if ! command -v go >/dev/null 2>&1; then
    for d in /usr/local/go/bin /usr/lib/go/bin; do
      [ -x "$d/go" ] && export PATH="$d:$PATH" && break
    done
  fi
  command -v go >/dev/null 2>&1 || die "a Go toolchain (>= 1.24) is needed to build kube-apiserver and etcd; install Go at /usr/local/go"
  local v; v=$(go env GOVERSION | sed -E 's/^go([0-9]+)\.([0-9]+).*/\1 \2/')
  read -r maj min <<<"$v"
  if [ "$maj" -lt 1 ] || { [ "$maj" -eq 1 ] && [ "$min" -lt 24 ]; }; then
    die "Go $(go env GOVERSION) is too old: kube-apiserver $K8S_VERSION needs Go >= 1.24"
  fi
  export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
}

# Debian packages the scripts use (CMD:PACKAGE pairs); installed when missing, through the one
# apt helper that queues behind other apt runs (scripts/lib-apt.sh).
# shellcheck source=../../scripts/lib-apt.sh
source "$REPO_ROOT/scripts/lib-apt.sh"
ensure_pkgs() {
  local missing=() cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # with Recommends, as before: gcc's (libc6-dev) is what cgo links against
  apt_install --with-recommends "[cluster]" "${missing[@]}"
}

check_disk() {
  mkdir -p "$CLUSTER_CACHE"
  local free_kb; free_kb=$(df -Pk "$CLUSTER_CACHE" | awk 'NR==2{print $4}')
  [ "$free_kb" -ge $((4 * 1024 * 1024)) ] ||
    die "less than 4 GiB free under $CLUSTER_CACHE; a cold build needs about 5 GB (module + build cache)"
}

# copy_replaces GOMOD TAG: replay upstream replace directives into the current module.
copy_replaces() {
  go mod edit -json "$1" | jq -r --arg v "$2" '(.Replace // [])[]
    | if (.New.Path|startswith("./")) then "\(.Old.Path)=\(.Old.Path)@\($v)"
      elif (.New.Path|split("/")[0]|contains(".")) then
        "\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)\(if .New.Version then "@"+.New.Version else "" end)"
      else empty end' | while read -r r; do go mod edit -replace="$r"; done
}

K8S_BIN="$CLUSTER_CACHE/k8s-$K8S_VERSION/bin"
CRD_DIR="$CLUSTER_CACHE/crds-kubevirt-$KUBEVIRT_VERSION-cdi-$CDI_VERSION"
ETCD_BIN="$CLUSTER_CACHE/etcd-$ETCD_VERSION/bin"
KV_DIR="$CLUSTER_CACHE/kubevirt-$KUBEVIRT_VERSION"   # virt-api, virt-controller, install.json
# CDI's real cdi-controller + what its operator would install (build-cdi.sh)
CDI_DIR="$CLUSTER_CACHE/cdi-$CDI_VERSION"

# mod_gomod MODULE@VERSION: downloads a module's go.mod through the Go module proxy and prints
# its path in the module cache; fails loudly with the proxy's answer.
mod_gomod() {
  local js f
  js=$(go mod download -json "$1" 2>&1) || true
  f=$(jq -r '.GoMod // empty' <<<"$js" 2>/dev/null || true)
  if [ -z "$f" ] || [ ! -s "$f" ] || jq -e '.Error' <<<"$js" >/dev/null 2>&1; then
    die "cannot download $1 from the Go module proxy: $(jq -r '.Error // empty' <<<"$js" 2>/dev/null || echo "$js")"
  fi
  echo "$f"
}
