#!/usr/bin/env bash
# The Debian golden image: a Debian bookworm disk that boots by itself (MBR partition table +
# GRUB for BIOS, as KubeVirt's containerDisk boots it), with every built-in workload's packages,
# the guest agent and cloud-init pre-installed, nothing started and cloud-init clean. Built from
# Debian's packages only (mmdebstrap): no container engine, no loop device, no mount.
#
#   images/golden/debian/build.sh            prints the cache directory holding
#                                            disk.qcow2  packages.txt  ready
#
# Cached (scripts/cache-entry.sh: locked, atomic) under
#   ${VIRTWORK_CACHE:-~/.cache/virtwork}/golden/debian-bookworm-<key>/
# where <key> hashes this script and the package list, so a changed recipe or a profile that
# installs something new builds a new image; warm, it returns at once. Cold: ~3-6 min on 2
# cores. Logs go to stderr. Needs root (mmdebstrap in root mode, chroot) and Node >= 22.12
# (the package list comes from src/workloads/ through scripts/golden-packages.ts).
#
# Wrap the disk as a containerdisk and push it with images/golden/push-containerdisk.sh (no
# daemon), or with podman/buildah and images/golden/Containerfile.
set -euo pipefail

SUITE=bookworm
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../../../scripts/cache-entry.sh
source "$REPO/scripts/cache-entry.sh"
# shellcheck source=../../../scripts/debian-mirror.sh
source "$REPO/scripts/debian-mirror.sh"
# shellcheck source=../../../scripts/lib-apt.sh
source "$REPO/scripts/lib-apt.sh"

log() { echo "golden debian: $*" >&2; }

# What the workloads need: from the guest profile "debian" (src/workloads/guest.ts, golden.ts).
mapfile -t WORKLOAD_PACKAGES < <(node --experimental-strip-types "$REPO/scripts/golden-packages.ts" debian)
[ "${#WORKLOAD_PACKAGES[@]}" -gt 0 ] || { log "scripts/golden-packages.ts listed no packages"; exit 1; }
# What a disk needs to boot by itself and be reached: kernel, init, GRUB's BIOS images, SSH
# (virtwork's --ssh-key users).
BOOT_PACKAGES=(
  linux-image-cloud-amd64 initramfs-tools systemd systemd-sysv udev kmod dbus netbase
  grub-pc-bin openssh-server sudo util-linux mount e2fsprogs
)

VIRTWORK_CACHE=${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork}
KEY=$({ cat "${BASH_SOURCE[0]}"; printf '%s\n' "${WORKLOAD_PACKAGES[@]}"; } | sha256sum | cut -c1-12)
FINAL="$VIRTWORK_CACHE/golden/debian-$SUITE-$KEY"

ready() { [ -f "$1/ready" ] && [ -s "$1/disk.qcow2" ]; }

need() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] && return
  apt_install "golden image" "$2"
}

build() {
  local tmp=$1 root=$1/root started mirror
  started=$(date +%s)
  if [ "$(id -u)" -ne 0 ]; then
    log "building the golden image needs root (mmdebstrap in root mode, chroot)"
    return 1
  fi
  export PATH="$PATH:/usr/sbin:/sbin"
  need mmdebstrap mmdebstrap
  need mkfs.ext4 e2fsprogs
  need sfdisk fdisk
  need qemu-img qemu-utils
  mirror=$(debian_mirror) || { log "no Debian mirror in this machine's apt sources; set VIRTWORK_DEBIAN_MIRROR"; return 1; }
  log "building $(basename "$FINAL") from $SUITE packages: ${WORKLOAD_PACKAGES[*]}"

  # minbase + the packages, no Recommends, no docs/man pages/locales. mmdebstrap starts no
  # service in the chroot (policy-rc.d), so nothing runs at build time.
  mmdebstrap --quiet --mode=root --variant=minbase --components=main \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --include="$(
      IFS=,
      echo "${BOOT_PACKAGES[*]},${WORKLOAD_PACKAGES[*]}"
    )" \
    "$SUITE" "$root" "$mirror" >&2

  # The apt sources stay as built (a user may add packages later); the lists are dropped.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

  # Nothing left to start: the PostgreSQL package made an empty default cluster "main" on the
  # root disk; the database workload makes its own on the data disk (guest profile initdb).
  local major
  for major in "$root"/usr/lib/postgresql/*; do
    chroot "$root" pg_dropcluster "$(basename "$major")" main 2>/dev/null || true
  done

  echo debian >"$root/etc/hostname"
  printf 'LABEL=vwroot / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
  # Per-VM identity: a fresh machine-id and SSH host keys at first boot; cloud-init clean.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
  rm -rf "$root/var/lib/cloud" "$root"/var/log/cloud-init*

  # KubeVirt's cloudInitNoCloud (a "cidata" disk) or cloudInitConfigDrive; no probing of cloud
  # metadata services. The image's locale is C.UTF-8 (no locales package).
  cat >"$root/etc/cloud/cloud.cfg.d/90-virtwork-golden.cfg" <<'EOF'
datasource_list: [NoCloud, ConfigDrive, None]
locale: C.UTF-8
EOF
  # systemd-networkd (cloud-init renders the seed's network-config for it); DHCP on every NIC
  # when the seed has none (KubeVirt's pod network answers DHCP).
  cat >"$root/etc/systemd/network/99-virtwork-fallback.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
  chroot "$root" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1
  if ! compgen -G "$root/lib/modules/*/kernel/net/sched/sch_netem.ko*" >/dev/null; then
    log "the kernel has no sch_netem module (chaos-network needs it)"
    return 1
  fi

  # GRUB for BIOS without grub-install (which wants a block device): core.img knows its
  # partition and prefix, boot.img goes in the MBR's code area, core.img right after the MBR
  # (sector 1, where boot.img looks by default), the modules into /boot/grub. The kernel and
  # initrd are reached through Debian's /vmlinuz and /initrd.img links, which kernel upgrades
  # keep current.
  mkdir -p "$root/boot/grub/i386-pc"
  cp "$root"/usr/lib/grub/i386-pc/*.mod "$root"/usr/lib/grub/i386-pc/*.lst "$root/boot/grub/i386-pc/"
  cat >"$root/boot/grub/grub.cfg" <<'EOF'
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "Debian GNU/Linux (virtwork golden image)" {
  search --no-floppy --label vwroot --set=root
  linux /vmlinuz root=LABEL=vwroot ro console=tty0 console=ttyS0,115200n8
  initrd /initrd.img
}
EOF
  chroot "$root" grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
    biosdisk part_msdos ext2 search search_label normal linux configfile echo serial terminal
  mv "$root/tmp/core.img" "$tmp/core.img"
  cp "$root/usr/lib/grub/i386-pc/boot.img" "$tmp/boot.img"
  local core_sectors=$((($(stat -c %s "$tmp/core.img") + 511) / 512))
  [ "$core_sectors" -lt 2047 ] || { log "core.img ($core_sectors sectors) does not fit before the partition"; return 1; }

  # 4 GiB sparse: one bootable Linux partition from 1 MiB, an ext4 made from the tree.
  truncate -s 4G "$tmp/disk.raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --quiet "$tmp/disk.raw" >&2
  local part_bytes=$(($(stat -c %s "$tmp/disk.raw") - 1024 * 1024))
  mkfs.ext4 -q -F -L vwroot -d "$root" "$tmp/part.img" "$((part_bytes / 1024))k" >&2
  dd if="$tmp/part.img" of="$tmp/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$tmp/boot.img" of="$tmp/disk.raw" bs=440 count=1 conv=notrunc status=none
  dd if="$tmp/core.img" of="$tmp/disk.raw" bs=512 seek=1 conv=notrunc status=none

  mkdir -p "$tmp/out"
  qemu-img convert -c -O qcow2 "$tmp/disk.raw" "$tmp/out/disk.qcow2"
  printf '%s\n' "${WORKLOAD_PACKAGES[@]}" >"$tmp/out/packages.txt"
  chmod 0644 "$tmp/out"/*
  du -h --apparent-size "$tmp/out/disk.qcow2" >&2
  echo "$SUITE $(date -u +%FT%TZ) $(($(date +%s) - started))s" >"$tmp/out/ready"
  log "built in $(($(date +%s) - started))s"
}

cache_entry "$FINAL" ready build
echo "$FINAL"
