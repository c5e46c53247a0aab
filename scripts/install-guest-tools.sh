#!/usr/bin/env bash
# Installs the real tools that check virtwork's guest artefacts (test/guest/artifacts), from
# Debian's packages: cloud-init (schema), systemd (systemd-analyze verify), shellcheck, and
# what the guest scripts run on (xfsprogs, iproute2, util-linux, mount, procps, coreutils),
# the password hash checkers (openssl, mkpasswd from whois) and the tools whose fixed lists
# the built-in params mirror (stress-ng, fio).
# Idempotent: when every command is already there it returns at once, without touching apt.
set -euo pipefail

# command -> Debian package that provides it
declare -A TOOLS=(
  [cloud-init]=cloud-init
  [shellcheck]=shellcheck
  [systemd-analyze]=systemd
  [mkfs.xfs]=xfsprogs
  [ip]=iproute2
  [tc]=iproute2
  [losetup]=mount
  [mount]=mount
  [unshare]=util-linux
  [blkid]=util-linux
  [mountpoint]=util-linux
  [fallocate]=util-linux
  [ps]=procps
  [df]=coreutils
  [awk]=mawk
  [openssl]=openssl
  [mkpasswd]=whois
  [stress-ng]=stress-ng
  [fio]=fio
)

# cloud-init must be Debian's (run by the system python with its own modules).
# shellcheck source=scripts/lib-apt.sh
source "$(dirname "$0")/lib-apt.sh"

missing=()
for cmd in "${!TOOLS[@]}"; do
  have "$cmd" || missing+=("${TOOLS[$cmd]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "guest tools: all present"
  exit 0
fi
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

apt_install "guest tools" "${packages[@]}"

for cmd in "${!TOOLS[@]}"; do
  if ! have "$cmd"; then
    echo "guest tools: $cmd still missing after installing ${packages[*]}" >&2
    exit 1
  fi
done
echo "guest tools: installed ${packages[*]}"
