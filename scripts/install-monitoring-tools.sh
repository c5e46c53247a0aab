#!/usr/bin/env bash
# Installs what the monitoring checks need, from Debian's packages: `prometheus` (the server
# the integration tests start on loopback) and `promtool` (rule checks and rule unit tests),
# both shipped by Debian's `prometheus` package. Idempotent: returns at once when both exist.
# The package's service is not started here (the tests start their own server).
set -euo pipefail

# shellcheck source=scripts/lib-apt.sh
source "$(dirname "$0")/lib-apt.sh"

if have promtool && have prometheus; then
  echo "monitoring tools: all present ($(promtool --version 2>&1 | head -n 1))"
  exit 0
fi
apt_install "monitoring tools" prometheus

for cmd in promtool prometheus; do
  if ! have "$cmd"; then
    echo "monitoring tools: $cmd still missing after installing prometheus" >&2
    exit 1
  fi
done
echo "monitoring tools: installed ($(promtool --version 2>&1 | head -n 1))"
