#!/usr/bin/env bash
# Installs what the monitoring checks need, from Debian's packages: `prometheus` (the server
# the integration tests start on loopback) and `promtool` (rule checks and rule unit tests),
# both shipped by Debian's `prometheus` package. Idempotent: returns at once when both exist.
# The package's service is not started here (the tests start their own server).
set -euo pipefail

have() { PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" command -v "$1" >/dev/null 2>&1; }

if have promtool && have prometheus; then
  echo "monitoring tools: all present ($(promtool --version 2>&1 | head -n 1))"
  exit 0
fi
if ! have apt-get; then
  echo "monitoring tools: promtool/prometheus missing and no apt-get here (Debian/Ubuntu only)" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then
    SUDO=(sudo -n)
  else
    echo "monitoring tools: installing prometheus needs root (or sudo)" >&2
    exit 1
  fi
fi

echo "monitoring tools: installing prometheus (promtool + server)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 prometheus >/dev/null

for cmd in promtool prometheus; do
  if ! have "$cmd"; then
    echo "monitoring tools: $cmd still missing after installing prometheus" >&2
    exit 1
  fi
done
echo "monitoring tools: installed ($(promtool --version 2>&1 | head -n 1))"
