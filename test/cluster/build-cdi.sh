#!/usr/bin/env bash
# Builds CDI's real DataVolume controller (kubevirt.io/containerized-data-importer/cmd/cdi-controller
# at $CDI_VERSION) from the Go module proxy, and renders what CDI's operator would install for it
# (crdgen/cdi-install: every CDI CRD + the controller's Deployment, from the operator's factories).
# Like gen-crds.sh: a throw-away consumer module that replays CDI's replace block at the same tag.
# Output: $CDI_DIR/{bin/cdi-controller,install.json}, built in a private temp dir under a lock and
# moved into place (scripts/cache-entry.sh). Idempotent: exits at once when built.
#
# cmd/cdi-controller is CDI's main package (one file, controller.go: flags, env, wiring; the
# controllers are in pkg/). It is built from a copy taken from the module cache at build time
# (Go refuses -overlay for files under GOMODCACHE), with three expressions changed: in a pod
# the metrics port 8443 and the token key directory /var/run/cdi/token/keys are the container's
# own; on this shared machine they would collide with other clusters and need root. Each now
# reads an environment variable first and falls back to CDI's value:
#   VIRTWORK_CDI_METRICS_BIND_ADDRESS  (default ":8443")
#   VIRTWORK_CDI_TOKEN_PUBLIC_KEY      (default /var/run/cdi/token/keys/id_rsa.pub)
#   VIRTWORK_CDI_TOKEN_PRIVATE_KEY     (default /var/run/cdi/token/keys/id_rsa)
source "$(dirname "$0")/lib.sh"

cdi_ready() { [ -x "$1/bin/cdi-controller" ] && [ -s "$1/install.json" ]; }

# patch_main SRC DST: CDI's controller.go with the three environment overrides (see the header).
# Fails when the upstream lines are not found exactly once (another CDI version).
patch_main() {
  local src=$1 dst=$2 n
  for n in 'BindAddress:   ":8443",' 'os.ReadFile(controller.TokenPublicKeyPath)' 'os.ReadFile(controller.TokenPrivateKeyPath)'; do
    [ "$(grep -cF "$n" "$src")" = 1 ] || die "cmd/cdi-controller/controller.go of CDI $CDI_VERSION has no single '$n'; adapt patch_main"
  done
  sed -e 's|BindAddress:   ":8443",|BindAddress:   virtworkEnv("VIRTWORK_CDI_METRICS_BIND_ADDRESS", ":8443"),|' \
    -e 's|os.ReadFile(controller.TokenPublicKeyPath)|os.ReadFile(virtworkEnv("VIRTWORK_CDI_TOKEN_PUBLIC_KEY", controller.TokenPublicKeyPath))|' \
    -e 's|os.ReadFile(controller.TokenPrivateKeyPath)|os.ReadFile(virtworkEnv("VIRTWORK_CDI_TOKEN_PRIVATE_KEY", controller.TokenPrivateKeyPath))|' \
    "$src" >"$dst"
  cat >>"$dst" <<'GO'

// virtworkEnv is added by virtwork's test/cluster/build-cdi.sh: the environment's value, else CDI's.
func virtworkEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
GO
}

build_cdi() { # TMP: module in TMP/src, entry in TMP/out
  ensure_go; ensure_pkgs jq:jq; check_disk
  export CGO_ENABLED=0
  local start mod=kubevirt.io/containerized-data-importer upstream dir
  start=$(date +%s)
  log "building cdi-controller $CDI_VERSION ($mod@$CDI_VERSION; cold: a few minutes)"
  mkdir -p "$1/src/installgen" "$1/out/bin"; cd "$1/src" || return
  cp "$CLUSTER_SRC_DIR/crdgen/cdi-install/main.go" installgen/
  go mod init local/cdi-build >/dev/null 2>&1
  upstream=$(mod_gomod "$mod@$CDI_VERSION")
  copy_replaces "$upstream" "$CDI_VERSION"
  go mod edit -go="$(go mod edit -json "$upstream" | jq -r .Go)"
  go mod edit -require="$mod@$CDI_VERSION"
  cat >tools.go <<'GO'
//go:build tools

package tools

import _ "kubevirt.io/containerized-data-importer/cmd/cdi-controller"
GO
  go mod tidy >&2
  dir=$(go list -m -f '{{.Dir}}' "$mod")
  [ "$(cd "$dir/cmd/cdi-controller" && ls ./*.go)" = ./controller.go ] ||
    die "CDI $CDI_VERSION's cmd/cdi-controller is not the single controller.go this script patches"
  mkdir -p cdi-controller
  patch_main "$dir/cmd/cdi-controller/controller.go" cdi-controller/controller.go
  go build -trimpath -ldflags "-s -w" -o "$1/out/bin/cdi-controller" ./cdi-controller
  go build -trimpath -o installgen/cdi-install ./installgen
  installgen/cdi-install -version "$CDI_VERSION" >"$1/out/install.json"
  jq -e '(.crds | length) > 1 and (.controller.spec.template.spec.containers | length) == 1' "$1/out/install.json" >/dev/null
  log "cdi-controller $CDI_VERSION built in $(( $(date +%s) - start ))s; CRDs: $(jq -r '[.crds[].metadata.name]|join(", ")' "$1/out/install.json")"
}

cache_entry "$CDI_DIR" cdi_ready build_cdi
