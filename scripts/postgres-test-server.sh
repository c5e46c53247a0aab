#!/usr/bin/env bash
# A throwaway PostgreSQL server for the audit tests, on a free loopback port.
#
#   scripts/postgres-test-server.sh          start it (if not running) and print its URL
#   scripts/postgres-test-server.sh stop     stop it and remove its data
#
# Installs Debian's `postgresql` package when no server binaries are found. The cluster
# lives in a temp dir (VIRTWORK_PG_DIR, default /tmp/virtwork-pg-<uid>), owned by a
# non-root user (initdb refuses root), trusts loopback connections only, and is reused by
# later calls, so a second call costs a few milliseconds. Only the URL goes to stdout.
set -euo pipefail

DIR="${VIRTWORK_PG_DIR:-${TMPDIR:-/tmp}/virtwork-pg-$(id -u)}"
DATA="$DIR/data"
LOG="$DIR/server.log"

say() { echo "postgres-test-server: $*" >&2; }

find_bin_dir() {
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]] && { echo "$candidate"; return 0; }
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

# Test files start in parallel: one caller at a time sets the server up, the rest reuse it.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9

BIN="$(find_bin_dir || true)"
if [[ -z "$BIN" ]]; then
  say "installing PostgreSQL (Debian package postgresql)"
  SUDO=""
  [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
  BIN="$(find_bin_dir)" || { say "no initdb/pg_ctl after installing postgresql"; exit 1; }
fi

# The package normally creates the user; a machine may hold the group without it (useradd would
# then refuse with "group postgres exists"), so join that group when it is there.
ensure_postgres_user() {
  id postgres >/dev/null 2>&1 && return 0
  local group=()
  getent group postgres >/dev/null && group=(-g postgres)
  useradd --system --no-create-home --shell /usr/sbin/nologin "${group[@]}" postgres
}

# initdb and postgres refuse to run as root: run them as the package's `postgres` user.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    ensure_postgres_user
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The server must not inherit the lock's descriptor, or it would hold the lock for its lifetime.
pg_ctl_() { as_owner "$BIN/pg_ctl" -D "$DATA" "$@" 9>&-; }

if [[ "${1:-start}" == "stop" ]]; then
  if [[ -f "$DATA/PG_VERSION" ]]; then
    pg_ctl_ stop -m immediate -s >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit 0
fi

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() { echo "postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres"; }

if [[ -f "$DIR/port" && -f "$DATA/PG_VERSION" ]] && pg_ctl_ status >/dev/null 2>&1; then
  url
  exit 0
fi

mkdir -p "$DIR"
chmod 755 "$DIR"
[[ "$(id -u)" -eq 0 ]] && { ensure_postgres_user; chown postgres "$DIR"; }

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  rm -rf "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$DIR/initdb.log" 2>&1 9>&- ||
    { cat "$DIR/initdb.log" >&2; exit 1; }
fi

port=""
for candidate in $(shuf -i 20000-60000 -n 50); do
  if port_is_free "$candidate"; then port="$candidate"; break; fi
done
[[ -n "$port" ]] || { say "no free port found"; exit 1; }
echo "$port" >"$DIR/port"

# fsync off: the data is thrown away; tests only need a real server, not durability.
if ! pg_ctl_ start -w -t 60 -l "$LOG" \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  >/dev/null; then
  cat "$LOG" >&2
  exit 1
fi
url
