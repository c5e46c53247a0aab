#!/usr/bin/env bash
# Builds etcd $ETCD_VERSION from the Go module proxy. go.etcd.io/etcd/server/v3 has package main
# at its module root and requires its sibling modules at the same published version, so a
# consumer module needs no replace directive. Output: $CLUSTER_CACHE/etcd-$ETCD_VERSION/bin/etcd.
source "$(dirname "$0")/lib.sh"
OUT="$CLUSTER_CACHE/etcd-$ETCD_VERSION"
[ -x "$ETCD_BIN/etcd" ] && exit 0
ensure_go; check_disk
export CGO_ENABLED=0
start=$(date +%s)
log "building etcd $ETCD_VERSION"
rm -rf "$OUT/src"; mkdir -p "$OUT/src" "$OUT/bin.tmp"; cd "$OUT/src"
go mod init local/etcd-build >/dev/null 2>&1
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
go mod tidy >&2
go build -trimpath -ldflags "-s -w" -o "$OUT/bin.tmp/etcd" go.etcd.io/etcd/server/v3
"$OUT/bin.tmp/etcd" --version >&2
rm -rf "$ETCD_BIN"; mv "$OUT/bin.tmp" "$ETCD_BIN"
log "etcd $ETCD_VERSION built in $(( $(date +%s) - start ))s"
