/** The cloud-config document model: what a workload asks cloud-init to do in the guest. */

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
