import { intRange, oneOfValues } from "../params.ts";
import { vcpuBusy } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
import { STRESS_CPU_METHODS } from "../tool-lists.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-cpu.service";

export const cpu: Workload = {
  name: "cpu",
  description: "CPU stress with stress-ng on every vCPU",
  optIn: false,
  params: [
    {
      name: "cpu-load-percent",
      type: "int",
      default: "100",
      description: "Load per stressor, in percent",
      check: intRange(0, 100),
    },
    {
      name: "cpu-method",
      type: "string",
      default: "all",
      description: "stress-ng --cpu-method (e.g. all, matrixprod, fft)",
      check: oneOfValues(STRESS_CPU_METHODS, "a stress-ng CPU method (stress-ng --cpu-method which)"),
    },
  ],
  signals: [vcpuBusy(0.2, "stress-ng keeps every vCPU busy")],
  build: ({ params, guest }) => ({
    roles: [
      {
        guest: {
          packages: [guest.packages.stress],
          files: [
            simpleServiceFile(UNIT, {
              description: "Virtwork CPU stress workload",
              execStart: `${guest.stressPath} --cpu 0 --cpu-load ${params["cpu-load-percent"]} --cpu-method ${params["cpu-method"]} --timeout 0`,
            }),
          ],
          runcmd: enableNow(UNIT),
        },
      },
    ],
    dataDisks: [],
  }),
  // stress-ng --cpu 0 runs one stressor per vCPU, each busy cpu-load-percent of the time.
  cpuDemand: (params, cores) => (cores * 1000 * Number(params["cpu-load-percent"])) / 100,
};
