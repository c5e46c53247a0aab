import { intRange, oneOfValues } from "../params.ts";
import type { Signal } from "../signals.ts";
import { enableNow, simpleServiceFile } from "../systemd.ts";
import { STRESS_VM_METHODS } from "../tool-lists.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-memory.service";

export const memory: Workload = {
  name: "memory",
  description: "Memory pressure with stress-ng virtual-memory stressors",
  optIn: false,
  params: [
    {
      name: "memory-percent",
      type: "int",
      default: "80",
      description: "Share of guest memory the stressors hold, in percent",
      check: intRange(1, 100),
    },
    {
      name: "vm-stressors",
      type: "int",
      default: "1",
      description: "Number of stress-ng --vm workers",
      check: intRange(1, 1024),
    },
    {
      name: "vm-method",
      type: "string",
      default: "all",
      description: "stress-ng --vm-method (e.g. all, flip, zero-one)",
      check: oneOfValues(STRESS_VM_METHODS, "a stress-ng VM method (stress-ng --vm-method which)"),
    },
  ],
  signals: [
    {
      name: "memory-resident",
      description:
        "stress-ng holds most of guest memory: resident memory of the VM's process vs guest memory",
      kind: "ratio",
      metric: "kubevirt_vmi_memory_resident_bytes",
      of: "kubevirt_vmi_memory_domain_bytes",
      min: 0.5,
      unit: "ratio",
    } satisfies Signal,
  ],
  build: ({ params, guest }) => ({
    roles: [
      {
        guest: {
          packages: [guest.packages.stress],
          files: [
            simpleServiceFile(UNIT, {
              description: "Virtwork memory stress workload",
              execStart: `${guest.stressPath} --vm ${params["vm-stressors"]} --vm-bytes ${params["memory-percent"]}% --vm-method ${params["vm-method"]} --timeout 0`,
            }),
          ],
          runcmd: enableNow(UNIT),
        },
      },
    ],
    dataDisks: [],
  }),
  // Each --vm stressor keeps one vCPU busy writing and checking its pages.
  cpuDemand: (params, cores) => Math.min(cores, Number(params["vm-stressors"])) * 1000,
};
