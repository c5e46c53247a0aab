/**
 * Runs guest scripts for real without touching the host: a private mount namespace
 * (`unshare --mount`) in which /dev is a small tmpfs holding only the loop device (and the
 * /dev/disk/by-id/virtio-<serial> link a KubeVirt guest has), /etc/fstab and /mnt are a
 * temp file and dir that persist between calls (like a root disk between boots),
 * /usr/local/bin is an empty tmpfs, and the guest's files are written at their paths.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { type RunResult, run, runSync, tempDir } from "./tools.ts";

export interface LoopDisk {
  /** e.g. /dev/loop3 */
  device: string;
  image: string;
  detach(): void;
}

/** A sparse image file attached to a free loop device (mkfs.xfs wants more than 300 MB). */
export function attachLoop(dir: string, sizeMiB = 320): LoopDisk {
  const image = join(dir, "disk.img");
  runSync("truncate", ["-s", `${sizeMiB}M`, image]);
  const r = runSync("losetup", ["--find", "--show", image]);
  if (r.code !== 0) throw new Error(`losetup: ${r.stderr}`);
  const device = r.stdout.trim();
  return { device, image, detach: () => void runSync("losetup", ["-d", device]) };
}

/** Skip reason when loop devices cannot be attached here. */
export function loopSupport(): string | false {
  if (process.getuid?.() !== 0) return "needs root for loop devices and mounts (CI runs as root)";
  const dir = tempDir("loop-probe");
  try {
    const loop = attachLoop(dir.path, 1);
    loop.detach();
    return false;
  } catch (err) {
    return `this machine cannot attach loop devices: ${(err as Error).message}`;
  } finally {
    dir.remove();
  }
}

export interface SandboxOptions {
  /** Work dir: holds fstab, the dev tmpfs mount point and the guest files. */
  dir: string;
  disk?: { device: string; serial: string };
  files?: GuestFile[];
  /** Extra lines for /etc/passwd and /etc/group inside the sandbox (e.g. a postgres user). */
  passwd?: string[];
  group?: string[];
  /** Directory of stub commands put first on PATH. */
  stubs?: string;
  env?: Record<string, string>;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Bind mounts made before the guest files are installed: [source, target]. */
  binds?: [string, string][];
  timeoutMs?: number;
}

/**
 * Runs `script` (bash) in the sandbox. /etc/fstab inside is `<dir>/fstab`, which persists
 * across calls, like a disk between two boots.
 */
export function sandbox(options: SandboxOptions, script: string): Promise<RunResult> {
  const { dir } = options;
  const guestDir = join(dir, "guest-files");
  mkdirSync(guestDir, { recursive: true });
  const installs: string[] = [];
  for (const [i, f] of (options.files ?? []).entries()) {
    const src = join(guestDir, String(i));
    writeFileSync(src, f.content);
    chmodSync(src, Number.parseInt(f.permissions, 8));
    installs.push(`install -D -m ${f.permissions} ${q(src)} ${q(f.path)}`);
  }
  const fstab = join(dir, "fstab");
  runSync("touch", [fstab]);
  const setup = `
set -euo pipefail
mkdir -p ${q(join(dir, "dev"))} ${q(join(dir, "blkid"))}
mount -t tmpfs -o mode=0755 virtwork-dev ${q(join(dir, "dev"))}
for n in null zero full random urandom tty; do cp -a "/dev/$n" ${q(join(dir, "dev"))}/; done
ln -s /proc/self/fd ${q(join(dir, "dev/fd"))}
${
  options.disk
    ? `cp -a ${q(options.disk.device)} ${q(join(dir, "dev"))}/
mkdir -p ${q(join(dir, "dev/disk/by-id"))}
ln -s ../../${options.disk.device.replace(/^\/dev\//, "")} ${q(join(dir, "dev/disk/by-id", `virtio-${options.disk.serial}`))}`
    : ""
}
mount --bind ${q(join(dir, "dev"))} /dev
mount --bind ${q(fstab)} /etc/fstab
mkdir -p ${q(join(dir, "mnt"))}
mount --bind ${q(join(dir, "mnt"))} /mnt
mount -t tmpfs virtwork-bin /usr/local/bin
${
  options.passwd?.length || options.group?.length
    ? `cat /etc/passwd - > ${q(join(dir, "passwd"))} <<'EOF'
${(options.passwd ?? []).join("\n")}
EOF
cat /etc/group - > ${q(join(dir, "group"))} <<'EOF'
${(options.group ?? []).join("\n")}
EOF
mount --bind ${q(join(dir, "passwd"))} /etc/passwd
mount --bind ${q(join(dir, "group"))} /etc/group`
    : ""
}
${(options.binds ?? []).map(([src, dst]) => `mount --bind ${q(src)} ${q(dst)}`).join("\n")}
${installs.join("\n")}
export BLKID_FILE=${q(join(dir, "blkid/blkid.tab"))}
${options.stubs ? `export PATH=${q(options.stubs)}:"$PATH"` : ""}
set +euo pipefail
`;
  const argv = ["unshare", "--mount", "--propagation", "private", "bash", "-c", `${setup}\n${script}`];
  if (options.netns) argv.unshift("ip", "netns", "exec", options.netns);
  const [cmd = "", ...args] = argv;
  return run(cmd, args, {
    env: { ...process.env, ...options.env },
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

/** Single-quotes a string for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Writes executable stub commands: name -> bash body. */
export function writeStubs(dir: string, stubs: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(stubs)) {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/bash\n${body}\n`);
    chmodSync(path, 0o755);
  }
  return dir;
}
