#!/usr/bin/env bash
# Installs the shells whose completion scripts the CLI tests load: zsh and fish (and script(1)
# from util-linux for the pseudo-terminal tests), from Debian's packages.
# Idempotent: when every command is there it returns at once, without touching apt.
set -euo pipefail
declare -A TOOLS=([zsh]=zsh [fish]=fish [script]=util-linux)
missing=()
for cmd in "${!TOOLS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-shells: installing ${missing[*]} (Debian packages)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
