import type { GuestFile } from "../cloudinit/guest-config.ts";

/**
 * The shared disk-setup script (reference §3.1), used by disk, chaos-disk and catalog
 * storage. Fixed from the original: the fstab line uses the stable by-id path, and the
 * fstab check matches the mount-point field exactly instead of any substring.
 */
export function diskSetupScript(serial: string, mountPoint: string): string {
  return `#!/bin/bash
# Formats (once) and mounts the virtio disk with serial ${serial} at ${mountPoint}.
set -euo pipefail

DISK="/dev/disk/by-id/virtio-${serial}"
MOUNT_POINT="${mountPoint}"

for _ in $(seq 1 30); do
  [ -e "$DISK" ] && break
  sleep 1
done
if [ ! -e "$DISK" ]; then
  echo "ERROR: disk $DISK not found after 30s" >&2
  exit 1
fi

DEVICE="$(readlink -f "$DISK")"
mkdir -p "$MOUNT_POINT"

if [ -z "$(blkid -o value -s TYPE "$DEVICE" || true)" ]; then
  mkfs.xfs "$DEVICE"
fi

if ! mountpoint -q "$MOUNT_POINT"; then
  mount "$DISK" "$MOUNT_POINT"
fi

if ! awk -v mp="$MOUNT_POINT" '$2 == mp { found = 1 } END { exit !found }' /etc/fstab; then
  echo "$DISK $MOUNT_POINT xfs defaults,nofail 0 0" >> /etc/fstab
fi
`;
}

export function diskSetupFile(path: string, serial: string, mountPoint: string): GuestFile {
  return { path, content: diskSetupScript(serial, mountPoint), permissions: "0755" };
}

export const DISK_SETUP_PATH = "/usr/local/bin/virtwork-disk-setup.sh";
