#!/usr/bin/env bash
# Whether this machine can run the booted-guest suite (test/guest/boot). Installs the host
# tools it needs from Debian's packages (qemu-system-x86, genisoimage, mmdebstrap, e2fsprogs)
# when missing. Exit 0: can boot guests (prints the accelerator qemu will be offered);
# exit 1: cannot, and prints why on stdout. (`make guest-test` then skips the suite, or under
# CI=true fails it.) VIRTWORK_GUEST_QEMU names the qemu binary to use instead of
# qemu-system-x86_64.
set -euo pipefail

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "needs x86-64 Linux (this is $(uname -s)-$(uname -m))"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "needs root: the guest disk is built with mmdebstrap and chroot (CI runs as root)"
  exit 1
fi
if [ "${VIRTWORK_SKIP_GUEST_TEST:-}" = "1" ]; then
  echo "VIRTWORK_SKIP_GUEST_TEST=1"
  exit 1
fi

# command -> Debian package
declare -A TOOLS=(
  [qemu-system-x86_64]=qemu-system-x86
  [genisoimage]=genisoimage
  [mmdebstrap]=mmdebstrap
  [mkfs.ext4]=e2fsprogs
  [flock]=util-linux
)
if [ -n "${VIRTWORK_GUEST_QEMU:-}" ]; then
  unset 'TOOLS[qemu-system-x86_64]'
  if ! command -v "$VIRTWORK_GUEST_QEMU" >/dev/null 2>&1; then
    echo "VIRTWORK_GUEST_QEMU=$VIRTWORK_GUEST_QEMU is not an executable"
    exit 1
  fi
fi
missing=()
for cmd in "${!TOOLS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "needs ${missing[*]} and there is no apt-get here to install them"
    exit 1
  fi
  # the one apt helper (queues behind other apt runs); in a subshell: it exits on failure
  # shellcheck source=../../../scripts/lib-apt.sh
  if ! (source "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib-apt.sh" && apt_install guest-test "${missing[@]}"); then
    echo "could not install ${missing[*]} with apt-get"
    exit 1
  fi
fi
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  echo "can boot guests (/dev/kvm present: KVM if the guest kernel boots under it, else TCG)"
else
  echo "can boot guests (no usable /dev/kvm: TCG software emulation, slower)"
fi
