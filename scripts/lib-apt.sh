# Sourced by the install-*.sh scripts: one way to find a command and to install Debian packages.
#   have CMD                 true when CMD is on the system PATH (not a node_modules shim)
#   apt_install LABEL PKG…   apt-get update + install (as root, or through sudo -n), waiting for
#                            another apt run's lock instead of failing; exits 1 with LABEL's reason
# shellcheck shell=bash

have() { PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" command -v "$1" >/dev/null 2>&1; }

apt_install() {
  local label=$1
  shift
  if ! have apt-get; then
    echo "$label: missing $* and no apt-get here (Debian/Ubuntu only)" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then
      sudo=(sudo -n)
    else
      echo "$label: installing $* needs root (or sudo)" >&2
      exit 1
    fi
  fi
  echo "$label: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600 >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}
