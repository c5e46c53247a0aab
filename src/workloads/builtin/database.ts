import { intRange } from "../params.ts";
import { dataDiskWrites } from "../signals.ts";
import { enableNow, renderUnit, UNIT_DIR } from "../systemd.ts";
import type { Workload } from "../types.ts";

const UNIT = "virtwork-database.service";
const SETUP = "/usr/local/bin/virtwork-db-setup.sh";
const SERIAL = "virtwork-dbdisk";

/**
 * Prepares PostgreSQL on the data disk. Runs as root from runcmd *before* the workload unit
 * is enabled, and again (idempotently) as the unit's root ExecStartPre. This fixes the Go
 * original, whose setup ran as User=postgres and whose unit started PostgreSQL before
 * initdb, so the benchmark never ran.
 */
function setupScript(dataDir: string, initdb: string, service: string, scaleFactor: string): string {
  return `#!/bin/bash
# Formats and mounts the database disk, initialises PostgreSQL and the pgbench tables.
set -euo pipefail

DATA_DIR="${dataDir}"
DISK="/dev/disk/by-id/virtio-${SERIAL}"
MARKER="/var/lib/virtwork/database-initialized"

if [ -f "$MARKER" ]; then
  echo "Database already initialized, skipping setup"
  systemctl start ${service}
  exit 0
fi

for _ in $(seq 1 30); do
  [ -e "$DISK" ] && break
  sleep 1
done
if [ ! -e "$DISK" ]; then
  echo "ERROR: disk $DISK not found after 30s" >&2
  exit 1
fi

mkdir -p "$DATA_DIR"
if ! mountpoint -q "$DATA_DIR"; then
  DEVICE="$(readlink -f "$DISK")"
  if [ -z "$(blkid -o value -s TYPE "$DEVICE" || true)" ]; then
    mkfs.xfs "$DEVICE"
  fi
  mount "$DISK" "$DATA_DIR"
fi
if ! awk -v mp="$DATA_DIR" '$2 == mp { found = 1 } END { exit !found }' /etc/fstab; then
  echo "$DISK $DATA_DIR xfs defaults,nofail 0 0" >> /etc/fstab
fi

chown postgres:postgres "$DATA_DIR"
chmod 0700 "$DATA_DIR"
if command -v restorecon >/dev/null 2>&1; then
  restorecon -R "$DATA_DIR"
fi

if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
  ${initdb.split("\n").join("\n  ")}
fi
systemctl enable --now ${service}

cd /
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'pgbench'" | grep -q 1; then
  runuser -u postgres -- createdb pgbench
fi
runuser -u postgres -- pgbench -i -s ${scaleFactor} pgbench

mkdir -p "$(dirname "$MARKER")"
touch "$MARKER"
`;
}

export const database: Workload = {
  name: "database",
  description: "PostgreSQL on a dedicated data disk under continuous pgbench load",
  optIn: false,
  params: [
    {
      name: "scale-factor",
      type: "int",
      default: "50",
      description: "pgbench -s scale factor of the test tables",
      check: intRange(1, 100000),
    },
    {
      name: "clients",
      type: "int",
      default: "10",
      description: "Concurrent pgbench clients",
      check: intRange(1, 1000),
    },
    {
      name: "duration",
      type: "int",
      default: "300",
      description: "Seconds per pgbench round",
      check: intRange(1),
    },
  ],
  signals: dataDiskWrites(64 * 1024, 5, "pgbench (PostgreSQL lives on the data disk)"),
  build: ({ params, guest }) => {
    const pg = guest.postgresql;
    return {
      roles: [
        {
          guest: {
            packages: [...guest.packages.postgresqlServer, guest.packages.xfs],
            files: [
              {
                path: SETUP,
                permissions: "0755",
                content: setupScript(pg.dataDir, pg.initdb, pg.serviceUnit, params["scale-factor"] ?? ""),
              },
              {
                path: `${UNIT_DIR}/${UNIT}`,
                permissions: "0644",
                content: renderUnit({
                  unit: [
                    ["Description", "Virtwork database benchmark workload"],
                    ["After", `network.target local-fs.target ${pg.serviceUnit}`],
                    ["Requires", pg.serviceUnit],
                  ],
                  service: [
                    ["Type", "simple"],
                    ["User", "postgres"],
                    // "+": the setup needs root (mount, initdb, systemctl) while pgbench runs as postgres.
                    ["ExecStartPre", `+${SETUP}`],
                    [
                      "ExecStart",
                      `/bin/bash -c 'while true; do pgbench -c ${params.clients} -j 2 -T ${params.duration} pgbench; sleep 10; done'`,
                    ],
                    ["Restart", "always"],
                    ["RestartSec", 10],
                  ],
                }),
              },
            ],
            runcmd: [[SETUP], ...enableNow(UNIT)],
          },
        },
      ],
      dataDisks: [{ name: "datadisk", serial: SERIAL, dataVolumeBase: "virtwork-database-data" }],
    };
  },
  // pgbench and one PostgreSQL backend per client keep every vCPU busy.
  cpuDemand: (_params, cores) => cores * 1000,
  // PostgreSQL under load flushes shared buffers and a checkpoint on shutdown; systemd gives a
  // unit 90 s to stop by default. KubeVirt's 30 s would cut the guest off mid-checkpoint.
  terminationGracePeriodSeconds: 180,
};
