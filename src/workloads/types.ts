import type { GuestProfile } from "./guest.ts";

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

/** A file written by cloud-init (`write_files`). */
export interface GuestFile {
  path: string;
  content: string;
  /** Octal mode as a string, e.g. "0644"; PyYAML must read it as a string, not an int. */
  permissions: "0644" | "0755" | "0600";
}

/** What a workload asks cloud-init to do in the guest; users/SSH are added by the plan. */
export interface GuestConfig {
  packages: string[];
  files: GuestFile[];
  /** argv lists, never shell strings. */
  runcmd: string[][];
}

export interface DataDisk {
  /** Disk and volume name inside the VM spec. */
  name: string;
  /** virtio serial: the guest finds the disk at /dev/disk/by-id/virtio-<serial>. */
  serial: string;
  /** The DataVolume is named `<dataVolumeBase>-<vm name>`. */
  dataVolumeBase: string;
  /** Quantity string; defaults to the run's disk size. */
  size?: string;
}

export interface ServicePort {
  name: string;
  port: number;
  /** TCP unless given. */
  protocol?: "TCP" | "UDP";
}

export interface ServiceSpec {
  name: string;
  ports: ServicePort[];
  /**
   * Role whose VMs back the Service; the selector is always scoped to the workload too.
   * Without it, every VM of the workload backs the Service.
   */
  selectorRole?: string;
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
  build(ctx: WorkloadContext): WorkloadOutput;
}
