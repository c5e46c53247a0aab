import type { GuestConfig } from "../cloudinit/guest-config.ts";
import type { DataDisk, ServiceSpec } from "../manifests/inputs.ts";
import type { GuestProfile } from "./guest.ts";
import type { Signal } from "./signals.ts";

/** The five param types of the reference (§3.0). Values always travel as strings. */
export type ParamType = "string" | "int" | "bool" | "list" | "dict";

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** Used when the user gives no value (or an empty one). */
  default: string;
  description: string;
  /** A rule beyond the type (range, pattern); returns what is wrong, or undefined. */
  check?: (value: string) => string | undefined;
}

export interface RoleOutput {
  /** Undefined for single-role workloads. */
  role?: string;
  /** VMs of this role; absent or 0 → the workload's vm-count (at least 1). */
  vmCount?: number;
  guest: GuestConfig;
}

export interface WorkloadOutput {
  /** One entry per role, in planning order (servers before clients). */
  roles: RoleOutput[];
  dataDisks: DataDisk[];
  service?: ServiceSpec;
}

export interface WorkloadContext {
  namespace: string;
  /** Resolved and validated: every declared param has a value. */
  params: Readonly<Record<string, string>>;
  guest: GuestProfile;
}

export interface Workload {
  name: string;
  description: string;
  /** Chaos workloads run only when asked for by name or with `--workloads all`. */
  optIn: boolean;
  params: readonly ParamSpec[];
  /** What KubeVirt's metrics must show for each VM (`virtwork verify`; see signals.ts). */
  signals?: readonly Signal[];
  build(ctx: WorkloadContext): WorkloadOutput;
}
