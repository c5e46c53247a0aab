#!/usr/bin/env bash
# Builds etcd $ETCD_VERSION from the Go module proxy. go.etcd.io/etcd/server/v3 has package main
# at its module root and requires its sibling modules at the same published version, so a
# consumer module needs no replace directive. Output: $CLUSTER_CACHE/etcd-$ETCD_VERSION/bin/etcd,
# built in a private temp dir under a lock and moved into place (scripts/cache-entry.sh).
source "$(dirname "$0")/lib.sh"

etcd_ready() { [ -x "$1/etcd" ]; }

build_etcd() { # TMP: module in TMP/src, binary into TMP/out
  ensure_go; check_disk
  export CGO_ENABLED=0
  local start; start=$(date +%s)
  log "building etcd $ETCD_VERSION"
  mkdir -p "$1/src" "$1/out"; cd "$1/src"
  go mod init local/etcd-build >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$1/out/etcd" go.etcd.io/etcd/server/v3
  "$1/out/etcd" --version >&2
  log "etcd $ETCD_VERSION built in $(( $(date +%s) - start ))s"
}

cache_entry "$ETCD_BIN" etcd_ready build_etcd
