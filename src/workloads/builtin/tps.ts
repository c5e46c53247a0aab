import { vmDnsName, vmName } from "../../manifests/names.ts";
import { intRange } from "../params.ts";
import { networkBothWays } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-tps.service";
/** The server's two daemons run as separate units, so readiness and restarts see each. */
const HTTP_UNIT = "virtwork-tps-http.service";
const NETSERVER_UNIT = "virtwork-tps-netserver.service";
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
 * The HTTP side of the server: writes the test file, then becomes the HTTP server (exec), so
 * the unit's main process is the server and systemd sees it die. netserver has its own unit.
 */
function serverScript(bytes: number): string {
  return `#!/bin/bash
# HTTP server holding a ${bytes}-byte test file.
set -euo pipefail

mkdir -p /srv/virtwork
head -c ${bytes} /dev/urandom > /srv/virtwork/testfile.tmp
mv /srv/virtwork/testfile.tmp /srv/virtwork/testfile
echo "HTTP on ${HTTP_PORT}"
exec python3 -m http.server ${HTTP_PORT} --directory /srv/virtwork
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
    ? `  for i in $(seq 1 "$ITERATIONS"); do
    echo "TCP_RR round $i/$ITERATIONS"
    netperf -H "$SERVER" -p ${NETPERF_CONTROL_PORT} -t TCP_RR -l "$DURATION" -- -r "$MSG_SIZE,$MSG_SIZE" -P ,${NETPERF_DATA_PORT}
    sleep 2
  done`
    : `  echo "netperf is not available on this guest OS: TCP_RR rounds skipped, HTTP rounds only"`;
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

# One cycle is both phases; cycles repeat for as long as the unit runs, so the signal never
# pauses and the unit never exits (a restart means a failure, and readiness stays steady).
cycle=0
while true; do
  cycle=$((cycle + 1))
  echo "TPS cycle $cycle"
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
  echo "TPS cycle $cycle complete"
  sleep 10
done
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
    // Client i talks to server i alone: netserver's data port is fixed, so two clients of one
    // server would collide on it, and HTTP rates would mix.
    const serverOf = (i: number) => vmDnsName(vmName("tps", i, "server"), TPS_SERVICE, namespace);
    const unit = (name: string, description: string, execStart: string, restartSec: number) =>
      simpleServiceFile(name, {
        description,
        execStart,
        after: "network-online.target",
        wants: "network-online.target",
        restartSec,
      });
    const serverUnits = netperf ? [HTTP_UNIT, NETSERVER_UNIT] : [HTTP_UNIT];
    return {
      roles: [
        {
          role: "server",
          guest: {
            packages: netperf ? [netperf, guest.packages.python3] : [guest.packages.python3],
            files: [
              { path: SERVER_SCRIPT, permissions: "0755", content: serverScript(bytes) },
              unit(HTTP_UNIT, "Virtwork TPS server: HTTP test file", SERVER_SCRIPT, 10),
              ...(netperf
                ? [
                    unit(
                      NETSERVER_UNIT,
                      "Virtwork TPS server: netperf netserver",
                      `${guest.netserverPath} -D -p ${NETPERF_CONTROL_PORT}`,
                      10,
                    ),
                  ]
                : []),
            ],
            runcmd: enableNow(...serverUnits),
          },
        },
        {
          role: "client",
          guest: (i) => ({
            packages: netperf ? [netperf, guest.packages.curl] : [guest.packages.curl],
            files: [
              {
                path: CLIENT_SCRIPT,
                permissions: "0755",
                content: clientScript(
                  serverOf(i),
                  params.iterations ?? "",
                  params.duration ?? "",
                  bytes,
                  !!netperf,
                ),
              },
              unit(
                UNIT,
                netperf
                  ? "Virtwork TPS client (netperf TCP_RR + HTTP file transfer)"
                  : "Virtwork TPS client (HTTP file transfer)",
                CLIENT_SCRIPT,
                30,
              ),
            ],
            runcmd: enableNow(UNIT),
          }),
        },
      ],
      dataDisks: [],
      service: {
        name: TPS_SERVICE,
        selectorRole: "server",
        perVmDns: true,
        ports: [
          { name: "netperf-ctrl", port: NETPERF_CONTROL_PORT },
          { name: "netperf-data", port: NETPERF_DATA_PORT },
          { name: "http-data", port: HTTP_PORT },
        ],
      },
    };
  },
  // One request/response stream and one HTTP transfer loop at a time: about one vCPU per side.
  cpuDemand: (_params, cores) => Math.min(cores, 1) * 1000,
};
