#!/usr/bin/env bash
# Builds the Debian bookworm guest disk of the booted-guest suite (test/guest/boot) from
# Debian's packages, and caches it outside the clone:
#
#   ${VIRTWORK_GUEST_CACHE:-~/.cache/virtwork/guest}/<key>/{vmlinuz,initrd.img,root.img}
#
# <key> is a hash of this script, so changing the recipe builds a new disk and an unchanged
# one is reused (warm: returns at once). Prints the cache directory on stdout, logs on stderr.
#
# The guest has no network to a package mirror, so everything the workloads need is
# installed here, and the image's apt sources are left empty: cloud-init's `packages:` then
# runs `apt-get update` (nothing to fetch) and `apt-get install` of packages that are already
# installed, which succeeds without touching the network.
#
# The mirror is read at run time from this machine's apt configuration (or
# VIRTWORK_DEBIAN_MIRROR); it is never written in the repository. Needs root (mmdebstrap
# in root mode, chroot). The root disk is a bare ext4 file system made with `mkfs.ext4 -d`
# (no loop device, no partition table, no boot loader): qemu boots the kernel directly.
set -euo pipefail

SUITE=bookworm
PACKAGES=(
  # boot and guest plumbing
  linux-image-cloud-amd64 initramfs-tools systemd systemd-sysv udev kmod dbus
  cloud-init qemu-guest-agent openssh-server sudo netbase
  util-linux mount e2fsprogs
  # what the workloads run (guest profile "debian", src/workloads/guest.ts)
  stress-ng fio xfsprogs postgresql postgresql-contrib iperf3 python3 curl iproute2 procps
)

log() { echo "guest image: $*" >&2; }

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SELF")/../../.." && pwd)"
# The mirror this machine's apt uses (or VIRTWORK_DEBIAN_MIRROR) and the one apt helper. Neither
# changes what goes into the disk, so the cache key stays the hash of this script alone.
# shellcheck source=../../../scripts/debian-mirror.sh
source "$REPO/scripts/debian-mirror.sh"
# shellcheck source=../../../scripts/lib-apt.sh
source "$REPO/scripts/lib-apt.sh"
CACHE_ROOT="${VIRTWORK_GUEST_CACHE:-${HOME}/.cache/virtwork/guest}"
KEY="debian-${SUITE}-$(sha256sum "$SELF" | cut -c1-12)"
OUT="$CACHE_ROOT/$KEY"

if [ -f "$OUT/ready" ]; then
  echo "$OUT"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  log "building the guest disk needs root (mmdebstrap, chroot)"
  exit 1
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
flock 9
if [ -f "$OUT/ready" ]; then
  echo "$OUT"
  exit 0
fi

need() {
  command -v "$1" >/dev/null 2>&1 && return
  apt_install "guest image" "$2"
}
need mmdebstrap mmdebstrap
need mkfs.ext4 e2fsprogs

MIRROR="$(debian_mirror)" || {
  log "no Debian mirror in this machine's apt sources; set VIRTWORK_DEBIAN_MIRROR"
  exit 1
}
started=$(date +%s)
log "building $KEY from $SUITE packages (cold build, a few minutes)"

WORK="$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"

# minbase + the packages above, no Recommends, no docs/man pages/locales.
mmdebstrap --quiet --mode=root --variant=minbase --components=main \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$(
    IFS=,
    echo "${PACKAGES[*]}"
  )" \
  "$SUITE" "$ROOT" "$MIRROR" >&2

# Empty apt sources: the guest has no mirror, and cloud-init's package install must be a
# no-op for the pre-installed packages rather than a network failure.
: >"$ROOT/etc/apt/sources.list"
rm -f "$ROOT"/etc/apt/sources.list.d/*
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb

echo virtwork-guest >"$ROOT/etc/hostname"
printf '/dev/vda / ext4 defaults 0 1\n' >"$ROOT/etc/fstab"
# A fresh machine-id per boot (every test boots a throwaway copy).
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
rm -rf "$ROOT/var/lib/cloud"

# cloud-init: only the NoCloud seed (no probing of cloud metadata services).
# The image's locale is C.UTF-8 (no locales package): cloud-init's default en_US.UTF-8 would
# fail update-locale.
#
# Boot time under TCG (measured with `systemd-analyze blame` / `cloud-init analyze blame` in a
# booted guest, docs/guest-test.md): generating three SSH host key types (RSA 3072 above all)
# took 28-41 s of config-ssh, printing their fingerprints 5-12 s, and grub-dpkg (there is no
# boot loader here) 5-43 s. One host key type (ed25519, what sshd offers first) is enough for
# the login check; none of this is what virtwork's user-data sets.
cat >"$ROOT/etc/cloud/cloud.cfg.d/90-virtwork-test.cfg" <<'EOF'
datasource_list: [NoCloud, None]
locale: C.UTF-8
ssh_genkeytypes: [ed25519]
ssh:
  emit_keys_to_console: false
grub_dpkg:
  enabled: false
EOF
# Networking by systemd-networkd (cloud-init renders the seed's network-config for it). A
# catch-all DHCP fallback keeps a default route when the seed has no network-config.
cat >"$ROOT/etc/systemd/network/99-virtwork-fallback.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
chroot "$ROOT" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1
# A serial console login is not needed: checks go through the guest agent. e2scrub_reap
# (removes stale e2scrub LVM snapshots; there is no LVM here) took 70-143 s of a TCG boot.
chroot "$ROOT" systemctl mask serial-getty@ttyS0.service getty@tty1.service \
  e2scrub_reap.service e2scrub_all.timer >/dev/null 2>&1

if ! compgen -G "$ROOT/lib/modules/*/kernel/net/sched/sch_netem.ko*" >/dev/null; then
  log "the guest kernel has no sch_netem module"
  exit 1
fi

mkdir -p "$WORK/out"
cp "$(readlink -f "$ROOT/vmlinuz")" "$WORK/out/vmlinuz"
cp "$(readlink -f "$ROOT/initrd.img")" "$WORK/out/initrd.img"
# 4 GiB sparse: the root file system holds ~1.3 GiB, the rest is room for the workloads.
mkfs.ext4 -q -F -L vwroot -d "$ROOT" "$WORK/out/root.img" 4G >&2
chmod 0644 "$WORK/out"/*
du -sh "$WORK/out/root.img" >&2

rm -rf "$OUT"
mv "$WORK/out" "$OUT"
echo "$SUITE $(date -u +%FT%TZ) $(($(date +%s) - started))s" >"$OUT/ready"
log "built $OUT in $(($(date +%s) - started))s"
echo "$OUT"
