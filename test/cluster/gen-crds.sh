#!/usr/bin/env bash
# Generates the real KubeVirt (VirtualMachine, VirtualMachineInstance) and CDI (DataVolume)
# CRDs by building tiny Go programs (crdgen/) against KubeVirt's and CDI's own generators.
# Each consumer module copies its upstream's replace block, with ./staging/X mapped to the
# published X module at the same tag. Output: $CRD_DIR/{kubevirt,cdi}-crds.json.
source "$(dirname "$0")/lib.sh"
[ -s "$CRD_DIR/kubevirt-crds.json" ] && [ -s "$CRD_DIR/cdi-crds.json" ] && exit 0
ensure_go; ensure_pkgs jq:jq gcc:gcc; check_disk
mkdir -p "$CRD_DIR"

# copy_replaces GOMOD TAG: replay upstream replace directives into the current module.
copy_replaces() {
  go mod edit -json "$1" | jq -r --arg v "$2" '(.Replace // [])[]
    | if (.New.Path|startswith("./")) then "\(.Old.Path)=\(.Old.Path)@\($v)"
      elif (.New.Path|split("/")[0]|contains(".")) then
        "\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)\(if .New.Version then "@"+.New.Version else "" end)"
      else empty end' | while read -r r; do go mod edit -replace="$r"; done
}

# gen NAME MODULE TAG OUTFILE
gen() {
  local name=$1 mod=$2 tag=$3 out=$4 start; start=$(date +%s)
  [ -s "$out" ] && return 0
  log "generating $name CRDs ($mod@$tag)"
  local src="$CRD_DIR/src-$name"
  rm -rf "$src"; mkdir -p "$src"; cp "$CLUSTER_SRC_DIR/crdgen/$name/main.go" "$src/"; cd "$src"
  go mod init "local/$name-crdgen" >/dev/null 2>&1
  local upstream; upstream=$(mod_gomod "$mod@$tag")
  copy_replaces "$upstream" "$tag"
  go mod edit -go="$(go mod edit -json "$upstream" | jq -r .Go)"
  go mod edit -require="$mod@$tag"
  go mod tidy >&2
  go build -trimpath -o crdgen . >&2
  ./crdgen > "$out.tmp"
  jq -e 'length > 0' "$out.tmp" >/dev/null
  mv "$out.tmp" "$out"
  log "$name CRDs: $(jq -r '[.[].metadata.name]|join(", ")' "$out") in $(( $(date +%s) - start ))s"
}

CGO_ENABLED=1 gen kubevirt kubevirt.io/kubevirt "$KUBEVIRT_VERSION" "$CRD_DIR/kubevirt-crds.json"
CGO_ENABLED=0 gen cdi kubevirt.io/containerized-data-importer "$CDI_VERSION" "$CRD_DIR/cdi-crds.json"
