import type { GuestConfig } from "../../cloudinit/guest-config.ts";
import { diskSetupFile } from "../disk-setup.ts";
import { enableNow, UNIT_DIR } from "../systemd.ts";
import type { ParamSpec, RoleOutput, Workload, WorkloadContext } from "../types.ts";
import type { CatalogEntry, UnitFile } from "./entry.ts";
import { paramValueProblem } from "./manifest.ts";
import { paramCheck } from "./param-rules.ts";
import { substitute } from "./placeholders.ts";

/** A Workload made from a catalog entry; the plan treats it like a built-in. */
export interface CatalogWorkload extends Workload {
  source: "catalog";
  entry: CatalogEntry;
}

export function diskSetupPath(storageName: string): string {
  return `/usr/local/bin/virtwork-disk-setup-${storageName}.sh`;
}

/** The entry's disks that VMs of `role` get (every disk without roles, for every VM). */
function storageOf(entry: CatalogEntry, role: string | undefined) {
  return entry.manifest.storage.filter(
    (s) => s.roles === undefined || (role !== undefined && s.roles.includes(role)),
  );
}

function guestFor(
  entry: CatalogEntry,
  units: UnitFile[],
  ctx: WorkloadContext,
  role: string | undefined,
): GuestConfig {
  const { packages } = entry.manifest;
  const storage = storageOf(entry, role);
  const setup = storage.map((s) => diskSetupFile(diskSetupPath(s.name), s.serial, s.mount));
  return {
    // The disk-setup script formats with mkfs.xfs, which not every image ships.
    packages: storage.length ? [...packages, ctx.guest.packages.xfs] : [...packages],
    files: [
      ...setup,
      ...units.map((u) => ({
        path: `${UNIT_DIR}/${u.name}`,
        content: substitute(u.text, ctx.params),
        permissions: "0644" as const,
      })),
    ],
    runcmd: [...setup.map((f) => [f.path]), ...enableNow(...units.map((u) => u.name))],
  };
}

/**
 * The entry as a Workload. An entry with roles is multi-role even with a single role: its
 * VMs carry the role label and the role's vm-count holds (fixes reference bug 13).
 */
export function catalogWorkload(entry: CatalogEntry): CatalogWorkload {
  const { manifest } = entry;
  const params: ParamSpec[] = manifest.params.map((p) => {
    const rules = paramCheck(p);
    return {
      name: p.key,
      type: p.type,
      default: p.default,
      description: p.description,
      check: (value) => paramValueProblem(value) ?? rules(value),
    };
  });
  return {
    name: entry.name,
    description: manifest.description || `Catalog workload from ${entry.dir}`,
    // Catalog entries run only when named with --from-catalog.
    optIn: true,
    params,
    ...(manifest.signals ? { signals: manifest.signals } : {}),
    source: "catalog",
    entry,
    build(ctx) {
      const roles: RoleOutput[] = manifest.roles.length
        ? manifest.roles.map((r) => {
            const unit = entry.roleUnits.get(r.name);
            const out: RoleOutput = {
              role: r.name,
              guest: guestFor(entry, unit ? [unit] : [], ctx, r.name),
            };
            if (r.vmCount > 0) out.vmCount = r.vmCount;
            return out;
          })
        : [{ guest: guestFor(entry, entry.units, ctx, undefined) }];
      const output: ReturnType<Workload["build"]> = {
        roles,
        dataDisks: manifest.storage.map((s) => ({
          name: s.name,
          serial: s.serial,
          dataVolumeBase: s.name,
          ...(s.size ? { size: s.size } : {}),
          ...(s.roles ? { roles: [...s.roles] } : {}),
        })),
      };
      if (manifest.service) {
        output.service = {
          name: `virtwork-${entry.name}`,
          ports: manifest.service.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
          ...(manifest.service.selectorRole ? { selectorRole: manifest.service.selectorRole } : {}),
        };
      }
      return output;
    },
  };
}
