#!/usr/bin/env bash
# Installs the shells whose completion scripts the CLI tests load: zsh and fish (and script(1)
# from util-linux for the pseudo-terminal tests), from Debian's packages.
# Idempotent: when every command is there it returns at once, without touching apt.
set -euo pipefail
declare -A TOOLS=([zsh]=zsh [fish]=fish [script]=util-linux)
# shellcheck source=scripts/lib-apt.sh
source "$(dirname "$0")/lib-apt.sh"
missing=()
for cmd in "${!TOOLS[@]}"; do have "$cmd" || missing+=("${TOOLS[$cmd]}"); done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
apt_install install-shells "${packages[@]}"
