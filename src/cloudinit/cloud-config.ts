import { toYaml } from "../util/yaml-emit.ts";
import type { GuestConfig } from "./guest-config.ts";

export const CLOUD_CONFIG_HEADER = "#cloud-config\n";
/** The Kubernetes limit on a Secret's data, which holds the user-data. */
export const MAX_USERDATA_BYTES = 1024 * 1024;

export interface SshAccess {
  user: string;
  /** SHA-512 crypt of the password (`$6$…`); the plain text never gets this far. */
  passwordHash?: string;
  authorizedKeys: string[];
}

/**
 * A `#cloud-config` document. Emitted with YAML 1.1 rules because cloud-init reads it with
 * PyYAML: strings such as `no`, `on` or `0755` are quoted so they stay strings, and
 * multi-line file contents are literal blocks. A `users` block exists only when SSH access
 * was asked for (design §4.2); without it the image's default user is left alone. A
 * password travels only as its salted hash (`hashed_passwd`), so the document can be
 * printed and applied as it is.
 */
export function renderCloudConfig(guest: GuestConfig, ssh?: SshAccess): string {
  const doc: Record<string, unknown> = {};
  if (guest.packages.length) doc.packages = [...new Set(guest.packages)];
  if (guest.files.length) {
    doc.write_files = guest.files.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions,
    }));
  }
  if (guest.runcmd.length) doc.runcmd = guest.runcmd;
  if (ssh) {
    const user: Record<string, unknown> = {
      name: ssh.user,
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      shell: "/bin/bash",
      lock_passwd: !ssh.passwordHash,
    };
    if (ssh.passwordHash) user.hashed_passwd = ssh.passwordHash;
    if (ssh.authorizedKeys.length) user.ssh_authorized_keys = ssh.authorizedKeys;
    doc.users = ["default", user];
    if (ssh.passwordHash) doc.ssh_pwauth = true;
  }
  if (Object.keys(doc).length === 0) return CLOUD_CONFIG_HEADER;
  return CLOUD_CONFIG_HEADER + toYaml(doc);
}
