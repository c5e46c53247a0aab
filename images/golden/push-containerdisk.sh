#!/usr/bin/env bash
# Wraps a qcow2 disk as a KubeVirt containerdisk and pushes it, with no container engine:
# one layer holding /disk/<name>.qcow2 owned 107:107 (the qemu user of virt-launcher), on an
# empty base, platform linux/amd64 — what `FROM scratch` + `ADD --chown=107:107 disk.qcow2
# /disk/` (images/golden/Containerfile) builds with podman or buildah.
#
#   images/golden/push-containerdisk.sh <disk.qcow2> <image-ref> [<profile>]
#
# crane (go-containerregistry) comes from CRANE, else PATH, else scripts/install-golden-tools.sh
# builds it from the Go module proxy into ~/.cache/virtwork/oci-tools. Registries on
# localhost/127.0.0.1 are spoken to over plain HTTP (crane's rule); log in to others with
# `crane auth login` first. Prints the pushed reference with its digest on stdout.
set -euo pipefail

usage() { echo "usage: $0 <disk.qcow2> <image-ref> [<profile>]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
DISK=$1 REF=$2 PROFILE=${3:-}
[ -f "$DISK" ] || { echo "push-containerdisk: disk \"$DISK\" does not exist; give the qcow2 file the recipe built" >&2; exit 2; }
[ "$(head -c 4 "$DISK" | od -An -tx1 | tr -d ' \n')" = 514649fb ] ||
  { echo "push-containerdisk: disk \"$DISK\" is not a qcow2 image; convert it with qemu-img convert -O qcow2" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRANE=${CRANE:-$(command -v crane || true)}
if [ -z "$CRANE" ]; then
  CRANE=$("$HERE/../../scripts/install-golden-tools.sh" | sed -n 's/^crane=//p')
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/disk"
# A hard link when it can (no copy of a multi-GiB file), else a copy.
ln "$DISK" "$work/disk/disk.qcow2" 2>/dev/null || cp "$DISK" "$work/disk/disk.qcow2"
tar --create --file "$work/layer.tar" --directory "$work" --numeric-owner --owner=107 --group=107 \
  --mode='u=rwX,g=rX,o=rX' --mtime='@0' --sort=name disk

labels=(--label "org.opencontainers.image.description=virtwork golden image${PROFILE:+ ($PROFILE)}: every built-in workload's packages pre-installed (images/golden/)")
[ -n "$PROFILE" ] && labels+=(--label "io.virtwork.golden-image=$PROFILE")
"$CRANE" append --oci-empty-base -f "$work/layer.tar" -t "$REF" >&2
"$CRANE" mutate "$REF" --set-platform linux/amd64 "${labels[@]}" -t "$REF" >&2
echo "$REF@$("$CRANE" digest "$REF")"
