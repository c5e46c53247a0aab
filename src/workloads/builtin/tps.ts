import { intRange } from "../params.ts";
import { networkBothWays } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-tps.service";
export const TPS_SERVICE = "virtwork-tps-server";
const SERVER_SCRIPT = "/usr/local/bin/virtwork-tps-server.sh";
const CLIENT_SCRIPT = "/usr/local/bin/virtwork-tps-client.sh";
const NETPERF_CONTROL_PORT = 12865;
const NETPERF_DATA_PORT = 12866;
const HTTP_PORT = 8080;
const FILE_SIZE = /^([1-9]\d{0,6})([KMG])$/i;
/** The test file lives on the root disk: keep it well below a containerdisk's size. */
const MAX_FILE_SIZE = 4 * 1024 ** 3;

/**
 * Bytes of a `file-size` param. Server and client both use this one number, which fixes
 * the original's K suffix (1 MiB file on the server, n×1024 bytes on the client).
 */
export function fileSizeBytes(value: string): number {
  const match = FILE_SIZE.exec(value);
  if (!match) throw new Error(`invalid file-size "${value}"`);
  const unit = (match[2] ?? "M").toUpperCase();
  return Number(match[1]) * 1024 ** (unit === "K" ? 1 : unit === "M" ? 2 : 3);
}

/**
 * Without netperf (a guest OS whose default repositories lack it) the server is HTTP only
 * and the client skips its TCP_RR phase: tps then measures transfers, not request/response.
 */
function serverScript(bytes: number, netperf: boolean): string {
  if (!netperf) {
    return `#!/bin/bash
# HTTP server holding a ${bytes}-byte test file (netperf is not available on this guest OS).
set -euo pipefail

echo "Starting virtwork TPS server (HTTP only: no netperf on this guest OS)"
mkdir -p /srv/virtwork
head -c ${bytes} /dev/urandom > /srv/virtwork/testfile.tmp
mv /srv/virtwork/testfile.tmp /srv/virtwork/testfile
python3 -m http.server ${HTTP_PORT} --directory /srv/virtwork &
echo "HTTP on ${HTTP_PORT}"
wait
`;
  }
  return `#!/bin/bash
# netperf server plus an HTTP server holding a ${bytes}-byte test file.
set -euo pipefail

echo "Starting virtwork TPS server"
netserver -D -p ${NETPERF_CONTROL_PORT} &
mkdir -p /srv/virtwork
head -c ${bytes} /dev/urandom > /srv/virtwork/testfile.tmp
mv /srv/virtwork/testfile.tmp /srv/virtwork/testfile
python3 -m http.server ${HTTP_PORT} --directory /srv/virtwork &
echo "netperf listening on ${NETPERF_CONTROL_PORT}, HTTP on ${HTTP_PORT}"
wait
`;
}

function clientScript(
  server: string,
  iterations: string,
  duration: string,
  bytes: number,
  netperf: boolean,
): string {
  const tcpRr = netperf
    ? `for i in $(seq 1 "$ITERATIONS"); do
  echo "TCP_RR round $i/$ITERATIONS"
  netperf -H "$SERVER" -p ${NETPERF_CONTROL_PORT} -t TCP_RR -l "$DURATION" -- -r "$MSG_SIZE,$MSG_SIZE" -P ,${NETPERF_DATA_PORT}
  sleep 2
done`
    : `echo "netperf is not available on this guest OS: TCP_RR rounds skipped, HTTP rounds only"`;
  return `#!/bin/bash
# ${netperf ? "netperf TCP_RR rounds, then HTTP" : "HTTP"} file-transfer rounds, against ${server}.
set -uo pipefail

SERVER="${server}"
ITERATIONS=${iterations}
DURATION=${duration}
${netperf ? "MSG_SIZE=64\n" : ""}FILE_SIZE_BYTES=${bytes}

until curl -s -o /dev/null "http://$SERVER:${HTTP_PORT}/"; do
  echo "Waiting for $SERVER"
  sleep 2
done

${tcpRr}

for i in $(seq 1 "$ITERATIONS"); do
  count=0
  start=$(date +%s)
  end=$((start + DURATION))
  while [ "$(date +%s)" -lt "$end" ]; do
    if curl -s -o /dev/null "http://$SERVER:${HTTP_PORT}/testfile"; then
      count=$((count + 1))
    fi
  done
  elapsed=$(( $(date +%s) - start ))
  [ "$elapsed" -gt 0 ] || elapsed=1
  echo "Round $i/$ITERATIONS completed: $count transfers in \${elapsed}s"
  echo "Throughput: $((count / elapsed)) transfers/sec, $((count * FILE_SIZE_BYTES / elapsed / 1048576)) MB/s"
  sleep 2
done
echo "TPS testing complete"
`;
}

export const tps: Workload = {
  name: "tps",
  description:
    "Request/response and transfer rates: netperf TCP_RR plus HTTP file downloads between VM pairs",
  optIn: false,
  params: [
    {
      name: "file-size",
      type: "string",
      default: "10M",
      description: "Size of the HTTP test file: a positive integer with K, M or G",
      check: (v) =>
        !FILE_SIZE.test(v)
          ? "must be a positive integer followed by K, M or G, e.g. 512K or 10M"
          : fileSizeBytes(v) > MAX_FILE_SIZE
            ? "must be at most 4G (the file is written to the guest's root disk)"
            : undefined,
    },
    {
      name: "iterations",
      type: "int",
      default: "30",
      description: "Rounds of each phase per cycle",
      check: intRange(1),
    },
    { name: "duration", type: "int", default: "60", description: "Seconds per round", check: intRange(1) },
  ],
  signals: networkBothWays(10 * 1024, "requests and responses between each pair"),
  build: ({ params, guest, namespace }) => {
    const bytes = fileSizeBytes(params["file-size"] ?? "");
    const netperf = guest.packages.netperf;
    const server = `${TPS_SERVICE}.${namespace}.svc.cluster.local`;
    const unit = (description: string, execStart: string, restartSec: number) =>
      simpleServiceFile(UNIT, {
        description,
        execStart,
        after: "network-online.target",
        wants: "network-online.target",
        restartSec,
      });
    return {
      roles: [
        {
          role: "server",
          guest: {
            packages: netperf ? [netperf, guest.packages.python3] : [guest.packages.python3],
            files: [
              { path: SERVER_SCRIPT, permissions: "0755", content: serverScript(bytes, !!netperf) },
              unit(
                netperf ? "Virtwork TPS server (netperf + HTTP)" : "Virtwork TPS server (HTTP)",
                SERVER_SCRIPT,
                10,
              ),
            ],
            runcmd: enableNow(UNIT),
          },
        },
        {
          role: "client",
          guest: {
            packages: netperf ? [netperf, guest.packages.curl] : [guest.packages.curl],
            files: [
              {
                path: CLIENT_SCRIPT,
                permissions: "0755",
                content: clientScript(
                  server,
                  params.iterations ?? "",
                  params.duration ?? "",
                  bytes,
                  !!netperf,
                ),
              },
              unit(
                netperf
                  ? "Virtwork TPS client (netperf TCP_RR + HTTP file transfer)"
                  : "Virtwork TPS client (HTTP file transfer)",
                CLIENT_SCRIPT,
                30,
              ),
            ],
            runcmd: enableNow(UNIT),
          },
        },
      ],
      dataDisks: [],
      service: {
        name: TPS_SERVICE,
        selectorRole: "server",
        ports: [
          { name: "netperf-ctrl", port: NETPERF_CONTROL_PORT },
          { name: "netperf-data", port: NETPERF_DATA_PORT },
          { name: "http-data", port: HTTP_PORT },
        ],
      },
    };
  },
};
