#!/usr/bin/env bash
# Generates the real KubeVirt (VirtualMachine, VirtualMachineInstance) and CDI (DataVolume)
# CRDs by building tiny Go programs (crdgen/) against KubeVirt's and CDI's own generators.
# Each consumer module copies its upstream's replace block, with ./staging/X mapped to the
# published X module at the same tag. Output: $CRD_DIR/{kubevirt,cdi}-crds.json, both built in
# a private temp dir under a lock and moved into place together (scripts/cache-entry.sh).
source "$(dirname "$0")/lib.sh"

# cdi-crds.json holds all of CDI's CRDs (an older entry held only the DataVolume one)
crds_ready() { [ -s "$1/kubevirt-crds.json" ] && [ -s "$1/cdi-crds.json" ] && jq -e 'length > 1' "$1/cdi-crds.json" >/dev/null; }

# gen TMP NAME MODULE TAG: builds crdgen/NAME in TMP/src-NAME, writes TMP/out/NAME-crds.json
gen() {
  local tmp=$1 name=$2 mod=$3 tag=$4 start; start=$(date +%s)
  local out="$tmp/out/$name-crds.json" src="$tmp/src-$name" upstream
  log "generating $name CRDs ($mod@$tag)"
  mkdir -p "$src" "$tmp/out"; cp "$CLUSTER_SRC_DIR/crdgen/$name/main.go" "$src/"; cd "$src"
  go mod init "local/$name-crdgen" >/dev/null 2>&1
  upstream=$(mod_gomod "$mod@$tag")
  copy_replaces "$upstream" "$tag"
  go mod edit -go="$(go mod edit -json "$upstream" | jq -r .Go)"
  go mod edit -require="$mod@$tag"
  go mod tidy >&2
  go build -trimpath -o crdgen . >&2
  ./crdgen > "$out"
  jq -e 'length > 0' "$out" >/dev/null
  log "$name CRDs: $(jq -r '[.[].metadata.name]|join(", ")' "$out") in $(( $(date +%s) - start ))s"
}

build_crds() { # TMP
  ensure_go; ensure_pkgs jq:jq gcc:gcc; check_disk
  CGO_ENABLED=1 gen "$1" kubevirt kubevirt.io/kubevirt "$KUBEVIRT_VERSION"
  CGO_ENABLED=0 gen "$1" cdi kubevirt.io/containerized-data-importer "$CDI_VERSION"
}

cache_entry "$CRD_DIR" crds_ready build_crds
