#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` is >= the project's minimum.
# When the machine's Node is older, a pinned LTS Node is unpacked from the npm registry
# package node-linux-<arch> into a cache outside the clone (keyed by version), in a private
# temp dir under a lock, moved into place with one rename (scripts/cache-entry.sh): clones that
# start at the same time unpack it once and never see a half-unpacked Node.
set -euo pipefail
# shellcheck source=cache-entry.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache-entry.sh"

PINNED_NODE_VERSION="${VIRTWORK_NODE_VERSION:-24.21.0}"
MIN_MAJOR=22
MIN_MINOR=12
CACHE_ROOT="${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork}/node"

node_is_recent_enough() {
  local bin="$1" version major minor
  version="$("$bin" -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${version%%.*}"
  minor="${version#*.}"; minor="${minor%%.*}"
  (( major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR) ))
}

if [[ -z "${VIRTWORK_FORCE_PINNED_NODE:-}" ]] && command -v node >/dev/null && node_is_recent_enough node; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "ensure-node: unsupported architecture $(uname -m); install Node >= ${MIN_MAJOR}.${MIN_MINOR} yourself" >&2; exit 1 ;;
esac

target="$CACHE_ROOT/$PINNED_NODE_VERSION-linux-$arch"
node_ready() { [[ -x "$1/bin/node" ]]; }
unpack_node() { # TMP
  echo "ensure-node: installing Node $PINNED_NODE_VERSION into $target (from the npm package node-linux-$arch)" >&2
  npm pack --silent "node-linux-$arch@$PINNED_NODE_VERSION" >/dev/null
  tar -xzf "$1"/node-linux-*.tgz -C "$1"
  mv "$1/package" "$1/out"
}
cache_entry "$target" node_ready unpack_node
node_is_recent_enough "$target/bin/node" || { echo "ensure-node: $target/bin/node does not run" >&2; exit 1; }
echo "$target/bin"
