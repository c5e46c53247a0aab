import { intRange, matches } from "../params.ts";
import { vcpuBusy } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
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
      check: matches(/^[a-z][a-z0-9_-]*$/, "a stress-ng method name such as all or matrixprod"),
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
};
