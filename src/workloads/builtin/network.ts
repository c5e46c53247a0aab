import { vmDnsName, vmName } from "../../manifests/names.ts";
import { intRange } from "../params.ts";
import { networkBothWays } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-network.service";
export const IPERF3_SERVICE = "virtwork-iperf3-server";

export const network: Workload = {
  name: "network",
  description: "iperf3 throughput between server and client VM pairs (bidirectional TCP)",
  optIn: false,
  params: [
    {
      name: "parallel-streams",
      type: "int",
      default: "4",
      description: "iperf3 -P parallel streams",
      check: intRange(1, 128),
    },
    {
      name: "test-duration",
      type: "int",
      default: "60",
      description: "iperf3 -t seconds per round",
      check: intRange(1),
    },
  ],
  signals: networkBothWays(1024 * 1024, "iperf3 --bidir between each pair"),
  build: ({ params, guest, namespace }) => {
    const unit = (description: string, execStart: string) =>
      simpleServiceFile(UNIT, {
        description,
        execStart,
        after: "network-online.target",
        wants: "network-online.target",
      });
    // Client i talks to server i alone: iperf3 serves one test at a time, so a shared server
    // would turn N clients into N-1 "server busy" errors each round.
    const serverOf = (i: number) => vmDnsName(vmName("network", i, "server"), IPERF3_SERVICE, namespace);
    return {
      roles: [
        {
          role: "server",
          guest: {
            packages: [guest.packages.iperf3],
            files: [unit("Virtwork iperf3 server", `${guest.iperf3Path} -s`)],
            runcmd: enableNow(UNIT),
          },
        },
        {
          role: "client",
          guest: (i) => ({
            packages: [guest.packages.iperf3],
            files: [
              unit(
                "Virtwork iperf3 client",
                `/bin/bash -c 'while true; do ${guest.iperf3Path} -c ${serverOf(i)} -t ${params["test-duration"]} -P ${params["parallel-streams"]} --bidir; sleep 10; done'`,
              ),
            ],
            runcmd: enableNow(UNIT),
          }),
        },
      ],
      dataDisks: [],
      service: {
        name: IPERF3_SERVICE,
        selectorRole: "server",
        perVmDns: true,
        ports: [{ name: "iperf3", port: 5201 }],
      },
    };
  },
  // iperf3 keeps about one vCPU busy per side (more with many streams on iperf3 >= 3.16).
  cpuDemand: (params, cores) =>
    Math.min(cores, Math.max(1, Math.ceil(Number(params["parallel-streams"]) / 4))) * 1000,
};
