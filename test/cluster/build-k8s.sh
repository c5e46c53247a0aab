#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler at $K8S_VERSION from the Go module proxy,
# through a throw-away consumer module that pins every k8s.io staging module to v0.<minor>.<patch>
# (k8s.io/kubernetes itself requires them at the fake version v0.0.0 with ./staging replaces).
# Output: $CLUSTER_CACHE/k8s-$K8S_VERSION/bin/, built in a private temp dir under a lock and
# moved into place (scripts/cache-entry.sh). Idempotent: exits at once when built.
source "$(dirname "$0")/lib.sh"

k8s_ready() { [ -x "$1/kube-apiserver" ] && [ -x "$1/kube-controller-manager" ] && [ -x "$1/kube-scheduler" ]; }

build_k8s() { # TMP: module in TMP/src, binaries into TMP/out
  ensure_go; ensure_pkgs jq:jq; check_disk
  export CGO_ENABLED=0
  local start; start=$(date +%s)
  log "building kube-apiserver + kube-controller-manager + kube-scheduler v$K8S_VERSION (cold: several minutes)"
  mkdir -p "$1/src" "$1/out"; cd "$1/src"
  go mod init local/k8s-build >/dev/null 2>&1
  local KMOD STAGING pinned_etcd MINOR LDF p
  KMOD=$(mod_gomod "k8s.io/kubernetes@v$K8S_VERSION")
  STAGING="v0.${K8S_VERSION#1.}"
  go mod edit -json "$KMOD" | jq -r '.Replace[] | select(.New.Path|startswith("./staging/")) | .Old.Path' |
    while read -r m; do go mod edit -replace="$m=$m@$STAGING"; done
  go mod edit -go="$(go mod edit -json "$KMOD" | jq -r .Go)"
  go mod edit -json "$KMOD" | jq -r '(.Godebug // [])[] | "\(.Key)=\(.Value)"' |
    while read -r kv; do go mod edit -godebug="$kv"; done
  go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
  pinned_etcd=$(go mod edit -json "$KMOD" | jq -r '.Require[]|select(.Path=="go.etcd.io/etcd/server/v3")|.Version')
  [ "$pinned_etcd" = "$ETCD_VERSION" ] || log "note: kubernetes v$K8S_VERSION pins etcd $pinned_etcd, we use $ETCD_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  go mod tidy >&2
  MINOR=$(cut -d. -f2 <<<"$K8S_VERSION"); LDF="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LDF+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$LDF" -o "$1/out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  "$1/out/kube-apiserver" --version >&2
  log "kube-apiserver v$K8S_VERSION built in $(( $(date +%s) - start ))s"
}

cache_entry "$K8S_BIN" k8s_ready build_k8s
