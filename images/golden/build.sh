#!/usr/bin/env bash
# Builds the golden image of one guest profile and tags it <image-ref>:
#
#   images/golden/build.sh <debian|ubuntu|fedora|centos-stream> <image-ref> [--push]
#
# debian:  images/golden/debian/build.sh makes the disk from Debian's packages (root, no
#          container engine); with podman or buildah it is wrapped by images/golden/Containerfile,
#          else (and always with --push and no engine) pushed by push-containerdisk.sh (crane).
# others:  podman (or buildah) builds images/golden/<profile>/Containerfile with the package
#          list of that profile (scripts/golden-packages.ts, from src/workloads/).
# --push pushes <image-ref> when the build is done. Needs Node >= 22.12 for the package list.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
usage() { echo "usage: $0 <debian|ubuntu|fedora|centos-stream> <image-ref> [--push]" >&2; exit 2; }
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
PROFILE=$1 REF=$2 PUSH=${3:-}
[ -z "$PUSH" ] || [ "$PUSH" = --push ] || usage
PACKAGES=$(node --experimental-strip-types "$REPO/scripts/golden-packages.ts" "$PROFILE" | paste -sd, -)

engine=
if command -v podman >/dev/null 2>&1; then engine=podman
elif command -v buildah >/dev/null 2>&1; then engine=buildah
fi

if [ "$PROFILE" = debian ]; then
  dir=$("$HERE/debian/build.sh" | tail -n 1)
  if [ -z "$engine" ]; then
    [ "$PUSH" = --push ] || { echo "golden: no podman or buildah here; built $dir/disk.qcow2 — push it with $0 debian $REF --push" >&2; exit 0; }
    "$HERE/push-containerdisk.sh" "$dir/disk.qcow2" "$REF" debian
    exit 0
  fi
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$dir/disk.qcow2" "$ctx/disk.qcow2"
  "$engine" build --label io.virtwork.golden-image=debian -f "$HERE/Containerfile" -t "$REF" "$ctx"
else
  [ -f "$HERE/$PROFILE/Containerfile" ] || { echo "golden: no recipe images/golden/$PROFILE/Containerfile" >&2; exit 2; }
  [ -n "$engine" ] || { echo "golden: the $PROFILE recipe needs podman or buildah" >&2; exit 1; }
  devices=()
  [ -c /dev/kvm ] && devices=(--device /dev/kvm)
  "$engine" build "${devices[@]}" --build-arg "PACKAGES=$PACKAGES" -f "$HERE/$PROFILE/Containerfile" -t "$REF" "$HERE"
fi
[ "$PUSH" != --push ] || "$engine" push "$REF"
