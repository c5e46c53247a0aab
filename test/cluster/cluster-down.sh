#!/usr/bin/env bash
# Stops the local test cluster started from $CLUSTER_DIR: kills exactly the processes whose
# ids cluster-up recorded (never by name), waits until they are gone, removes etcd's data dir
# and the credentials. Logs stay in $CLUSTER_DIR/logs for post-mortems. Safe to run twice.
source "$(dirname "$0")/lib.sh"
[ -d "$CLUSTER_DIR" ] || exit 0
if [ -z "${VIRTWORK_CLUSTER_LOCKED:-}" ]; then
  exec 9>"$CLUSTER_DIR/.lock"
  flock -w 300 9 || die "another cluster-up/down holds $CLUSTER_DIR/.lock"
fi

stopped=()
# Every controller first (they talk to the apiserver), then the apiserver, etcd last.
others=()
for f in "$CLUSTER_DIR"/*.pid; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .pid)
  case "$n" in apiserver | etcd) ;; *) others+=("$n") ;; esac
done
for name in "${others[@]}" apiserver etcd; do
  f="$CLUSTER_DIR/$name.pid"
  [ -s "$f" ] || { rm -f "$f"; continue; }
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ($pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    kill -0 "$pid" 2>/dev/null && die "$name ($pid) is still running"
    stopped+=("$name")
  fi
  rm -f "$f"
done

if [ -s "$CLUSTER_DIR/etcd.datadir" ]; then
  d=$(cat "$CLUSTER_DIR/etcd.datadir")
  case "$d" in */virtwork-etcd.*) rm -rf "$d" ;; esac
  rm -f "$CLUSTER_DIR/etcd.datadir"
fi
rm -rf "$CLUSTER_DIR/pki" "$CLUSTER_DIR/cdi" "$CLUSTER_DIR/tokens.csv" "$CLUSTER_DIR"/*.kubeconfig "$CLUSTER_DIR/kubeconfig" \
  "$CLUSTER_DIR/cluster.json" "$CLUSTER_DIR/env"
if [ ${#stopped[@]} -gt 0 ]; then log "stopped ${stopped[*]}"; else log "no cluster was running in $CLUSTER_DIR"; fi
