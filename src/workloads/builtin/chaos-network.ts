import { intRange } from "../params.ts";
import { vcpuBusy } from "../signals.ts";
import { enableNow, renderUnit, UNIT_DIR } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-chaos-network.service";
const START = "/usr/local/bin/virtwork-chaos-network-start.sh";
const STOP = "/usr/local/bin/virtwork-chaos-network-stop.sh";

const FIND_DEVICE = `DEV="\${CHAOS_DEVICE:-$(ip route show default | awk 'NR == 1 { print $5 }')}"
if [ -z "$DEV" ]; then
  echo "no default route interface found" >&2
  exit 1
fi`;

function startScript(tc: string, latencyMs: string, lossPercent: string): string {
  return `#!/bin/bash
# Adds ${latencyMs}ms latency and ${lossPercent}% packet loss on the default interface.
set -euo pipefail

${FIND_DEVICE}
modprobe sch_netem 2>/dev/null || true
# "replace" keeps a restart idempotent when a qdisc is already there.
${tc} qdisc replace dev "$DEV" root netem delay ${latencyMs}ms loss ${lossPercent}% limit 1000
echo "netem active on $DEV: delay ${latencyMs}ms loss ${lossPercent}%"
`;
}

function stopScript(tc: string): string {
  return `#!/bin/bash
# Removes the netem qdisc from the default interface.
set -uo pipefail

${FIND_DEVICE}
${tc} qdisc del dev "$DEV" root 2>/dev/null || true
echo "netem removed from $DEV"
exit 0
`;
}

export const chaosNetwork: Workload = {
  name: "chaos-network",
  description:
    "Chaos: latency and packet loss on the default interface with tc netem, until stopped (opt-in)",
  optIn: true,
  params: [
    {
      name: "latency-ms",
      type: "int",
      default: "100",
      description: "Added delay in milliseconds",
      check: intRange(0, 60000),
    },
    {
      name: "packet-loss-percent",
      type: "string",
      default: "5.0",
      description: "Packet loss in percent (a decimal number from 0 to 100)",
      check: (v) =>
        /^\d+(\.\d+)?$/.test(v) && Number(v) <= 100
          ? undefined
          : "must be a decimal number from 0 to 100, e.g. 5.0",
    },
  ],
  // netem adds delay and loss to other traffic; it moves no counter of its own (qdisc drops in
  // the guest never reach the vNIC's counters). The signal is that the VM is alive and
  // scheduled: its vCPUs accumulate time.
  signals: [vcpuBusy(0.001, "the guest runs (netem itself moves no counter KubeVirt exports)")],
  build: ({ params, guest }) => ({
    roles: [
      {
        guest: {
          packages: [guest.packages.tc],
          files: [
            {
              path: START,
              permissions: "0755",
              content: startScript(
                guest.tcPath,
                params["latency-ms"] ?? "",
                params["packet-loss-percent"] ?? "",
              ),
            },
            { path: STOP, permissions: "0755", content: stopScript(guest.tcPath) },
            {
              path: `${UNIT_DIR}/${UNIT}`,
              permissions: "0644",
              content: renderUnit({
                unit: [
                  ["Description", "Virtwork network chaos workload (tc/netem)"],
                  ["After", "network-online.target"],
                  ["Wants", "network-online.target"],
                ],
                // oneshot + RemainAfterExit keeps the qdisc until the unit is stopped; the
                // original's Type=simple removed it the moment tc exited.
                service: [
                  ["Type", "oneshot"],
                  ["RemainAfterExit", "yes"],
                  ["ExecStart", START],
                  ["ExecStop", STOP],
                ],
              }),
            },
          ],
          runcmd: [...(guest.netemModules ? [guest.netemModules] : []), ...enableNow(UNIT)],
        },
      },
    ],
    dataDisks: [],
  }),
  // The qdisc stays in the kernel; the guest is otherwise idle.
  cpuDemand: () => 100,
};
