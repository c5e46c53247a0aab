#!/usr/bin/env bash
# Builds KubeVirt's own control plane at $KUBEVIRT_VERSION from the Go module proxy: virt-api
# (the admission webhooks and API subresources) and virt-controller (VM -> VMI -> virt-launcher
# pod, VM status, migrations), plus kubevirt-installgen (kubevirt-gen/), which prints what
# virt-operator would install at that tag (CRDs, webhook configurations, Deployments,
# PrometheusRule) as install.json. One throw-away consumer module carrying KubeVirt's replace
# block (copy_replaces in lib.sh), one `go build` for the three binaries (they share most
# packages). Output: $KV_DIR/{bin/,install.json}, built under a lock and moved into place
# (scripts/cache-entry.sh). Idempotent: exits at once when built.
source "$(dirname "$0")/lib.sh"

kubevirt_ready() { [ -x "$1/bin/virt-api" ] && [ -x "$1/bin/virt-controller" ] && [ -s "$1/install.json" ]; }

build_kubevirt() { # TMP
  ensure_go; ensure_pkgs jq:jq gcc:gcc; check_disk
  local start upstream out=$1/out; start=$(date +%s)
  log "building virt-api + virt-controller $KUBEVIRT_VERSION (cold: several minutes)"
  mkdir -p "$1/src/installgen" "$out/bin"; cd "$1/src"
  cp "$CLUSTER_SRC_DIR/kubevirt-gen/main.go" installgen/
  go mod init local/kubevirt-build >/dev/null 2>&1
  upstream=$(mod_gomod "kubevirt.io/kubevirt@$KUBEVIRT_VERSION")
  copy_replaces "$upstream" "$KUBEVIRT_VERSION"
  go mod edit -go="$(go mod edit -json "$upstream" | jq -r .Go)"
  go mod edit -require="kubevirt.io/kubevirt@$KUBEVIRT_VERSION"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "kubevirt.io/kubevirt/cmd/virt-api"
	_ "kubevirt.io/kubevirt/cmd/virt-controller"
)
GO
  go mod tidy >&2
  local p=kubevirt.io/client-go/version
  local ldf="-s -w -X $p.gitVersion=$KUBEVIRT_VERSION -X $p.gitTreeState=clean"
  # static like upstream's images; CGO off: neither binary needs libvirt
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldf" -o "$out/bin/" \
    kubevirt.io/kubevirt/cmd/virt-api kubevirt.io/kubevirt/cmd/virt-controller ./installgen
  mv "$out/bin/installgen" "$out/bin/kubevirt-installgen"
  env KUBEVIRT_VERSION="$KUBEVIRT_VERSION" VIRT_OPERATOR_IMAGE="quay.io/kubevirt/virt-operator:$KUBEVIRT_VERSION" \
    "$out/bin/kubevirt-installgen" 2>"$1/installgen.log" >"$out/install.json" ||
    { cat "$1/installgen.log" >&2; die "kubevirt-installgen failed"; }
  jq -e '(.crds|length) > 10 and (.validatingWebhookConfigurations|length) > 0' "$out/install.json" >/dev/null ||
    die "install.json lacks CRDs or webhooks"
  log "KubeVirt $KUBEVIRT_VERSION: $(jq '.crds|length' "$out/install.json") CRDs, virt-api + virt-controller built in $(( $(date +%s) - start ))s"
}

cache_entry "$KV_DIR" kubevirt_ready build_kubevirt
