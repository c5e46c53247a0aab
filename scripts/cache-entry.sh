# shellcheck shell=bash
# Sourced, never executed. One cache entry (a directory under ~/.cache/virtwork) built safely
# while other clones may build or use the same entry:
#
#   cache_entry FINAL READY_FN BUILD_FN
#
# READY_FN FINAL    returns 0 when FINAL holds a finished entry (checked before and after the lock)
# BUILD_FN TMP      builds the entry into TMP/out; TMP is a private, empty directory next to FINAL
#                   (same file system), and the working directory during the build
#
# The build runs under `flock FINAL.lock`: a second builder waits for the first and then reuses
# what it finished. The finished TMP/out is moved into place with one rename(2) (`mv -T`), so a
# reader sees no entry or a whole one, never a half-made one. An interrupted build (error,
# Ctrl-C, TERM, HUP) removes its TMP; temp dirs of builders killed with SIGKILL are removed by
# the next builder, which holds the lock so it knows nobody else uses them.
# Logs go to stderr (this is also used where stdout is a command's answer). Call cache_entry as
# a plain statement (not inside if/||/&&), so that `set -e` stays in force in BUILD_FN.

cache_log() { printf '[cache] %s\n' "$*" >&2; }

cache_entry() {
  local final=$1 ready=$2 build=$3 name lockfd tmp started
  name=$(basename "$(dirname "$final")")/$(basename "$final")
  "$ready" "$final" && return 0
  command -v flock >/dev/null 2>&1 || { cache_log "flock (util-linux) is needed to build $name"; return 1; }
  mkdir -p "$(dirname "$final")"
  exec {lockfd}>"$final.lock"
  if ! flock -n "$lockfd"; then
    cache_log "$name: another process is building it; waiting for $final.lock"
    started=$(date +%s)
    flock "$lockfd"
    cache_log "$name: lock free after $(($(date +%s) - started))s"
  fi
  if "$ready" "$final"; then
    cache_log "$name: reusing the entry another process finished"
    exec {lockfd}>&-
    return 0
  fi
  # Under the lock nobody else builds this entry: temp dirs left here are a killed builder's.
  rm -rf "$final".tmp.*
  tmp=$(mktemp -d "$final.tmp.XXXXXX")
  # shellcheck disable=SC2064 # expand $tmp and $name now: the trap must remove exactly this dir
  trap "rc=\$?; rm -rf '$tmp'; [ \$rc -eq 0 ] || cache_log '$name: build stopped (exit '\$rc'); nothing of it is left in the cache'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  # A plain statement (not in an if/||), so `set -e` stays in force inside the build: the first
  # failing command ends the script, and the EXIT trap removes the temp dir.
  (
    set -e
    cd "$tmp"
    "$build" "$tmp"
  )
  [ -d "$tmp/out" ] || { cache_log "$name: the build made no $tmp/out"; exit 1; }
  rm -rf "$final"
  mv -T "$tmp/out" "$final"
  rm -rf "$tmp"
  trap - EXIT INT TERM HUP
  "$ready" "$final" || { cache_log "$name: entry not complete after the build"; return 1; }
  exec {lockfd}>&-
}
