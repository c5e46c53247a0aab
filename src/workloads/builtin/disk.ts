import { DISK_SETUP_PATH, diskSetupFile } from "../disk-setup.ts";
import { intRange, matches, oneOfValues } from "../params.ts";
import { dataDiskWrites } from "../signals.ts";
import { enableNow, renderUnit, UNIT_DIR } from "../systemd.ts";
import { FIO_IOENGINES } from "../tool-lists.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-disk.service";
const SERIAL = "virtwork-disk";
const MOUNT = "/mnt/data";
const BLOCK_SIZE = matches(/^[1-9]\d{0,6}[kKmM]?$/, "a positive block size such as 4k or 128k");

function fioJob(job: string, ioengine: string, lines: string[]): string {
  return [
    "[global]",
    `ioengine=${ioengine}`,
    "direct=1",
    `directory=${MOUNT}`,
    "size=1G",
    "",
    `[${job}]`,
    ...lines,
    "time_based",
    "group_reporting",
    "",
  ].join("\n");
}

export const disk: Workload = {
  name: "disk",
  description: "Disk I/O with fio on a dedicated data disk (mixed random read/write, then sequential writes)",
  optIn: false,
  params: [
    {
      name: "block-size-rw",
      type: "string",
      default: "4k",
      description: "fio block size of the mixed random job",
      check: BLOCK_SIZE,
    },
    {
      name: "block-size-seq",
      type: "string",
      default: "128k",
      description: "fio block size of the sequential job",
      check: BLOCK_SIZE,
    },
    {
      name: "rwmixread",
      type: "int",
      default: "70",
      description: "Read share of the mixed job, in percent",
      check: intRange(0, 100),
    },
    {
      name: "numjobs",
      type: "int",
      default: "4",
      description: "Parallel fio jobs of the mixed job",
      check: intRange(1, 256),
    },
    {
      name: "ioengine",
      type: "string",
      default: "libaio",
      description: `fio I/O engine: ${FIO_IOENGINES.join(", ")}`,
      check: oneOfValues(FIO_IOENGINES, "a fio ioengine"),
    },
    {
      name: "runtime",
      type: "int",
      default: "300",
      description: "Seconds each fio job runs",
      check: intRange(1),
    },
  ],
  signals: dataDiskWrites(1024 * 1024, 10, "fio"),
  build: ({ params, guest }) => ({
    roles: [
      {
        guest: {
          packages: [guest.packages.fio, guest.packages.xfs],
          files: [
            diskSetupFile(DISK_SETUP_PATH, SERIAL, MOUNT),
            {
              path: "/etc/fio/mixed-rw.fio",
              permissions: "0644",
              content: fioJob("mixed-rw", params.ioengine ?? "libaio", [
                "rw=randrw",
                `rwmixread=${params.rwmixread}`,
                `bs=${params["block-size-rw"]}`,
                `numjobs=${params.numjobs}`,
                `runtime=${params.runtime}`,
              ]),
            },
            {
              path: "/etc/fio/seq-write.fio",
              permissions: "0644",
              content: fioJob("seq-write", params.ioengine ?? "libaio", [
                "rw=write",
                `bs=${params["block-size-seq"]}`,
                "numjobs=2",
                `runtime=${params.runtime}`,
              ]),
            },
            {
              path: `${UNIT_DIR}/${UNIT}`,
              permissions: "0644",
              content: renderUnit({
                unit: [
                  ["Description", "Virtwork disk I/O workload"],
                  ["After", "network.target local-fs.target"],
                  ["RequiresMountsFor", MOUNT],
                ],
                service: [
                  ["Type", "simple"],
                  [
                    "ExecStart",
                    "/bin/bash -c 'while true; do fio /etc/fio/mixed-rw.fio; sleep 10; fio /etc/fio/seq-write.fio; sleep 10; done'",
                  ],
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
    dataDisks: [{ name: "datadisk", serial: SERIAL, dataVolumeBase: "virtwork-disk-data" }],
  }),
  // fio waits on the disk most of the time: about a quarter of a vCPU per job.
  cpuDemand: (params, cores) => Math.min(cores * 1000, Number(params.numjobs) * 250),
};
