# Sourced by every script that installs Debian packages (scripts/install-*.sh, the local
# cluster's and the guest suites' build scripts): one way to find a command and one way to run apt.
#   have CMD                 true when CMD is on the system PATH (not a node_modules shim)
#   apt_install [--with-recommends] LABEL PKG…
#                            apt-get update + install (as root, or through sudo -n), without
#                            Recommends unless asked; exits 1 with LABEL's reason
#
# Two clones running `make test` at once both reach apt (one installs zsh while the other
# installs qemu): apt's own locks then refuse the second run ("Could not get lock
# /var/lib/apt/lists/lock"; DPkg::Lock::Timeout covers only the dpkg frontend lock, not the
# lists lock that `apt-get update` takes). So virtwork's apt runs queue on one flock of their
# own (VIRTWORK_CACHE/apt.lock), and an apt run by someone else that holds apt's locks is
# waited for: the command is retried every 5 s for up to VIRTWORK_APT_WAIT seconds (600).
# shellcheck shell=bash

have() { PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" command -v "$1" >/dev/null 2>&1; }

# apt_retry LABEL CMD…: runs CMD; while it fails because another process holds an apt or dpkg
# lock, waits and runs it again. Quiet when it succeeds; its output goes to stderr when it fails.
apt_retry() {
  local label=$1 out rc waited=0 limit=${VIRTWORK_APT_WAIT:-600}
  shift
  while :; do
    rc=0
    out=$("$@" 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || return 0
    if [ "$waited" -lt "$limit" ] && grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' <<<"$out"; then
      [ "$waited" -gt 0 ] || echo "$label: another apt run holds apt's lock ($(grep -m1 -oE 'held by process [0-9]+[^)]*' <<<"$out" || echo 'lock busy')); waiting for it" >&2
      sleep 5
      waited=$((waited + 5))
      continue
    fi
    printf '%s\n' "$out" >&2
    [ "$waited" -lt "$limit" ] || echo "$label: apt's lock was still held after ${limit}s (VIRTWORK_APT_WAIT)" >&2
    return "$rc"
  done
}

apt_install() {
  local recommends=--no-install-recommends
  if [ "${1:-}" = --with-recommends ]; then
    recommends=--install-recommends
    shift
  fi
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
  local lock_dir=${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork} lock_fd
  mkdir -p "$lock_dir"
  exec {lock_fd}>"$lock_dir/apt.lock"
  if ! flock -n "$lock_fd"; then
    echo "$label: another virtwork apt run is installing; waiting for $lock_dir/apt.lock" >&2
    flock "$lock_fd"
  fi
  echo "$label: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  apt_retry "$label" "${sudo[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600 &&
    apt_retry "$label" "${sudo[@]}" apt-get install -y -qq "$recommends" -o DPkg::Lock::Timeout=600 "$@" || rc=$?
  exec {lock_fd}>&-
  if [ "$rc" -ne 0 ]; then
    echo "$label: apt-get could not install $* (exit $rc; output above)" >&2
    exit 1
  fi
}
