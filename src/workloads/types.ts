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
  /**
   * What cloud-init does in every VM of the role, or per VM when they differ (VM `index` of
   * the role, from 0), e.g. a client that names its own server.
   */
  guest: GuestConfig | ((index: number) => GuestConfig);
}

/** The guest config of VM `index` of a role. */
export function guestOf(role: RoleOutput, index: number): GuestConfig {
  return typeof role.guest === "function" ? role.guest(index) : role.guest;
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
  /**
   * The CPU the workload keeps busy in one VM, in millicores, for the VM's CPU request
   * (`--cpu-request auto`). Absent → no request (KubeVirt derives one from its overcommit ratio).
   */
  cpuDemand?: (params: Readonly<Record<string, string>>, cpuCores: number) => number;
  /** terminationGracePeriodSeconds the workload needs to stop cleanly; absent → KubeVirt's default. */
  terminationGracePeriodSeconds?: number;
}
