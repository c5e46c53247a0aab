# shellcheck shell=bash
# Sourced. debian_mirror: prints the Debian mirror this machine's apt already uses (the first
# deb source of a plain release suite, no -security/-updates, whose URI ends in /debian), or
# VIRTWORK_DEBIAN_MIRROR when set; returns 1 when there is none. The mirror is read at run
# time and never written in the repository. Used by test/guest/boot/build-image.sh and
# images/golden/debian/build.sh.
debian_mirror() {
  if [ -n "${VIRTWORK_DEBIAN_MIRROR:-}" ]; then
    echo "$VIRTWORK_DEBIAN_MIRROR"
    return
  fi
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() { if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )[a-z]+( |$)/) { n = split(uris, u, " "); for (i = 1; i <= n; i++) if (u[i] ~ /\/debian\/?$/) { print u[i]; exit } } types = uris = suites = "" }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      END { flush() }
    ' "$f"
  done | head -n 1 | grep . && return
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++; if ($(i) ~ /\/debian\/?$/ && $(i + 1) !~ /-/) { print $i; exit } }' |
    grep . && return
  return 1
}
