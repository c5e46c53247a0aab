import type { GuestFile } from "../cloudinit/guest-config.ts";

/** Renders systemd unit files from ordered sections, so every unit is built the same way. */
export type UnitSection = [key: string, value: string | number][];

export interface UnitSpec {
  unit: UnitSection;
  service: UnitSection;
  install?: UnitSection;
}

export function renderUnit(spec: UnitSpec): string {
  const section = (title: string, entries: UnitSection) =>
    [`[${title}]`, ...entries.map(([k, v]) => `${k}=${v}`)].join("\n");
  const install = spec.install ?? [["WantedBy", "multi-user.target"]];
  return `${[section("Unit", spec.unit), section("Service", spec.service), section("Install", install)].join("\n\n")}\n`;
}

export const UNIT_DIR = "/etc/systemd/system";

/** runcmd tail shared by every workload: reload units, then enable and start the workload. */
export function enableNow(...units: string[]): string[][] {
  return [["systemctl", "daemon-reload"], ...units.map((u) => ["systemctl", "enable", "--now", u])];
}

/**
 * The units a runcmd enables and starts (its `enableNow` lines), in order: read back from the
 * runcmd cloud-init runs, so the readiness probe checks exactly what the guest starts.
 */
export function unitsStartedBy(runcmd: readonly (readonly string[])[]): string[] {
  return runcmd
    .filter(
      (argv) => argv.length === 4 && argv[0] === "systemctl" && argv[1] === "enable" && argv[2] === "--now",
    )
    .map((argv) => argv[3] as string);
}

/** A unit name systemd accepts and no shell or argv position can misread. */
export const UNIT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@:-]*\.(service|socket|target|timer|path|mount)$/;

/** The unit file of a long-running workload process: Type=simple, restarted forever. */
export function simpleServiceFile(
  name: string,
  options: { description: string; execStart: string; after?: string; wants?: string; restartSec?: number },
): GuestFile {
  const unit: UnitSection = [
    ["Description", options.description],
    ["After", options.after ?? "network.target"],
  ];
  if (options.wants) unit.push(["Wants", options.wants]);
  return {
    path: `${UNIT_DIR}/${name}`,
    permissions: "0644",
    content: renderUnit({
      unit,
      service: [
        ["Type", "simple"],
        ["ExecStart", options.execStart],
        ["Restart", "always"],
        ["RestartSec", options.restartSec ?? 10],
      ],
    }),
  };
}
