import { DISK_SETUP_PATH, diskSetupFile } from "../disk-setup.ts";
import { intRange } from "../params.ts";
import type { Signal } from "../signals.ts";
import { enableNow, renderUnit, UNIT_DIR } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-chaos-disk.service";
const SCRIPT = "/usr/local/bin/chaos-disk.sh";
const SERIAL = "virtwork-chdisk";

function fillScript(mount: string, fillPercent: string, fillSleep: string, releaseSleep: string): string {
  return `#!/bin/bash
# Fills ${mount} to ${fillPercent}% for ${fillSleep}s, releases it for ${releaseSleep}s, forever.
set -euo pipefail

MOUNT="\${CHAOS_MOUNT:-${mount}}"
FILL_PERCENT=${fillPercent}
FILL_SLEEP=${fillSleep}
RELEASE_SLEEP=${releaseSleep}
FILL_FILE="$MOUNT/chaos-disk-fill"

while true; do
  read -r total used < <(df -k --output=size,used "$MOUNT" | tail -n 1)
  target=$((total * FILL_PERCENT / 100))
  fill=$((target - used))
  if [ "$fill" -gt 0 ]; then
    echo "Filling $MOUNT with \${fill}K to reach \${FILL_PERCENT}%"
    if ! fallocate -l "\${fill}K" "$FILL_FILE"; then
      dd if=/dev/zero of="$FILL_FILE" bs=1K count="$fill" status=none || true
    fi
  else
    echo "$MOUNT is already at or above \${FILL_PERCENT}%"
  fi
  sleep "$FILL_SLEEP"
  rm -f "$FILL_FILE"
  echo "Released $FILL_FILE"
  sleep "$RELEASE_SLEEP"
done
`;
}

export const chaosDisk: Workload = {
  name: "chaos-disk",
  description: "Chaos: fills a data disk to a given percentage and releases it, in a loop (opt-in)",
  optIn: true,
  params: [
    {
      name: "mount",
      type: "string",
      default: "/mnt/data",
      description: "Mount point of the data disk to fill",
      // The data disk is mounted (and filled) here: never over a system directory.
      check: (v) =>
        /^\/(mnt|srv|data)(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(v) && !v.split("/").includes("..")
          ? undefined
          : "must be a path under /mnt, /srv or /data (letters, digits, . _ -), e.g. /mnt/data",
    },
    {
      name: "fill-percent",
      type: "int",
      default: "90",
      description: "Target disk usage while filled, in percent",
      check: intRange(1, 100),
    },
    {
      name: "fill-sleep",
      type: "int",
      default: "60",
      description: "Seconds the disk stays filled",
      check: intRange(1),
    },
    {
      name: "release-sleep",
      type: "int",
      default: "30",
      description: "Seconds between release and the next fill",
      check: intRange(1),
    },
  ],
  // The fill is fallocate (metadata only, little data), then rm: what KubeVirt sees is a
  // trickle of write operations on the data disk every cycle, so the signal is "some writes
  // over a window longer than one fill/release cycle", not a throughput.
  signals: [
    {
      name: "disk-write-iops",
      description: "fill/release cycles write to the data disk",
      kind: "rate",
      metric: "kubevirt_vmi_storage_iops_write_total",
      labels: { drive: "datadisk" },
      min: 0.005,
      unit: "ops/s",
      window: "5m",
    } satisfies Signal,
  ],
  build: ({ params, guest }) => {
    const mount = params.mount ?? "/mnt/data";
    return {
      roles: [
        {
          guest: {
            packages: [guest.packages.xfs],
            files: [
              diskSetupFile(DISK_SETUP_PATH, SERIAL, mount),
              {
                path: SCRIPT,
                permissions: "0755",
                content: fillScript(
                  mount,
                  params["fill-percent"] ?? "",
                  params["fill-sleep"] ?? "",
                  params["release-sleep"] ?? "",
                ),
              },
              {
                path: `${UNIT_DIR}/${UNIT}`,
                permissions: "0644",
                content: renderUnit({
                  unit: [
                    ["Description", "Virtwork chaos-disk fill/release workload"],
                    ["After", "network.target local-fs.target"],
                    ["RequiresMountsFor", mount],
                  ],
                  service: [
                    ["Type", "simple"],
                    ["ExecStart", SCRIPT],
                    ["ExecStopPost", `/bin/rm -f ${mount}/chaos-disk-fill`],
                    ["Restart", "always"],
                    ["RestartSec", 10],
                  ],
                }),
              },
            ],
            runcmd: [[DISK_SETUP_PATH], ...enableNow(UNIT)],
          },
        },
      ],
      dataDisks: [{ name: "datadisk", serial: SERIAL, dataVolumeBase: "virtwork-chaos-disk-data" }],
    };
  },
  // Filling and releasing a file is I/O bound.
  cpuDemand: () => 200,
};
