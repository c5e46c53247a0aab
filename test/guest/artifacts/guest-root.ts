/**
 * A guest root directory for `systemd-analyze verify --root`: systemd's own units (from this
 * machine), the files cloud-init would write, stub executables for the commands the units
 * run that come from guest packages, and stub units for services those packages ship.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { GuestConfig } from "../../../src/cloudinit/guest-config.ts";
import { fedora } from "../../../src/workloads/guest.ts";
import { parseUnit } from "./tools.ts";

/** Units a guest package installs (they exist on a real guest once `packages` ran). */
export const PACKAGE_UNITS: Record<string, string> = {
  [fedora.postgresql.serviceUnit]:
    `[Unit]\nDescription=PostgreSQL (stub of the package's unit)\n\n[Service]\nType=notify\nUser=postgres\nExecStart=/usr/bin/postgres -D ${fedora.postgresql.dataDir}\n\n[Install]\nWantedBy=multi-user.target\n`,
};

const SYSTEMD_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => existsSync(d));

const EXEC_KEYS = /^Exec(Start|StartPre|StartPost|Stop|StopPost|Reload|Condition)$/;

/** Absolute executables named by Exec*= lines (prefixes such as `+`, `-`, `@`, `!` removed). */
export function unitExecutables(unitText: string): string[] {
  return parseUnit(unitText)
    .filter((e) => e.section === "Service" && EXEC_KEYS.test(e.key))
    .map((e) => e.value.replace(/^[-@:+!]+/, "").split(/\s+/)[0] ?? "")
    .filter((p) => p.startsWith("/"));
}

export function buildGuestRoot(root: string, guest: GuestConfig): { units: string[]; stubs: string[] } {
  if (!SYSTEMD_UNITS) throw new Error("no systemd unit directory on this machine");
  // A merged-/usr layout, like Fedora's.
  for (const d of ["usr/bin", "usr/sbin", "usr/lib/systemd", "etc/systemd/system"]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const [link, target] of [
    ["bin", "usr/bin"],
    ["sbin", "usr/sbin"],
    ["lib", "usr/lib"],
  ] as const) {
    if (!existsSync(join(root, link))) symlinkSync(target, join(root, link));
  }
  cpSync(SYSTEMD_UNITS, join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });

  const units: string[] = [];
  for (const f of guest.files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    chmodSync(path, Number.parseInt(f.permissions, 8));
    if (/^\/etc\/systemd\/system\/[^/]+\.(service|timer|socket|target)$/.test(f.path)) units.push(path);
  }

  const stubs: string[] = [];
  const needed = new Set<string>();
  for (const unit of units) {
    const text = guest.files.find((f) => join(root, f.path) === unit)?.content ?? "";
    for (const exe of unitExecutables(text)) needed.add(exe);
    for (const e of parseUnit(text)) {
      if (e.section !== "Unit" || !/^(Requires|Wants|BindsTo|Requisite)$/.test(e.key)) continue;
      for (const dep of e.value.split(/\s+/)) {
        const stub = PACKAGE_UNITS[dep];
        const path = join(root, "usr/lib/systemd/system", dep);
        if (stub && !existsSync(path)) {
          writeFileSync(path, stub);
          for (const exe of unitExecutables(stub)) needed.add(exe);
          stubs.push(`unit ${dep}`);
        }
      }
    }
  }
  for (const exe of needed) {
    const path = join(root, exe);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "#!/bin/sh\nexit 0\n");
    chmodSync(path, 0o755);
    stubs.push(exe);
  }
  return { units, stubs };
}
