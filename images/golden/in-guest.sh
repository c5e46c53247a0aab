#!/bin/sh
# Run inside a golden image by virt-customize (`--run`), after the packages are installed:
# what each distribution needs beyond the package list, then nothing left running or
# remembered, so every VM starts as a fresh instance. POSIX sh (the guest's /bin/sh).
set -eu
. /etc/os-release
case "$ID" in
ubuntu)
  # sch_netem (chaos-network) is in linux-modules-extra on Ubuntu's virtual kernels, named
  # after the kernel version: the image's newest kernel is the one it boots.
  kver=$(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  DEBIAN_FRONTEND=noninteractive apt-get install -y "linux-modules-extra-$kver"
  ;;
esac
# The PostgreSQL packages of Debian/Ubuntu make an empty default cluster "main"; the database
# workload makes its own on the data disk (src/workloads/guest.ts, initdb).
if command -v pg_dropcluster >/dev/null 2>&1; then
  for d in /usr/lib/postgresql/*; do pg_dropcluster "$(basename "$d")" main 2>/dev/null || true; done
fi
if command -v apt-get >/dev/null 2>&1; then apt-get clean; rm -rf /var/lib/apt/lists/*; fi
if command -v dnf >/dev/null 2>&1; then dnf clean all; fi
# Per-VM identity and a clean cloud-init: fresh machine-id, SSH host keys and instance state.
cloud-init clean --logs
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
