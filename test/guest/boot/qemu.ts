/**
 * Booting the Debian guest disk (build-image.sh) with qemu: KVM when /dev/kvm is usable,
 * otherwise TCG (software emulation) with longer time limits. Each VM gets a throwaway copy
 * of the root disk (snapshot=on), a NoCloud seed (ISO 9660, label cidata) with virtwork's
 * user-data, sparse data disks with the workload's serials, the guest agent on a
 * virtio-serial socket, the serial console in a file, and either an isolated user-mode NIC
 * (restrict=on: DHCP and a default route, no way out) or a NIC on a point-to-point socket
 * link on 127.0.0.1 shared with one other VM.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { homedir, release, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { GuestAgent } from "./qga.ts";
import { Qmp } from "./qmp.ts";

export const BUILD_IMAGE = fileURLToPath(new URL("./build-image.sh", import.meta.url));
/** The qemu binary; VIRTWORK_GUEST_QEMU overrides it (e.g. to prove that CI fails without one). */
export const QEMU = process.env.VIRTWORK_GUEST_QEMU || "qemu-system-x86_64";

export interface Accel {
  kind: "kvm" | "tcg";
  /** The -cpu model that starts here. */
  cpu: string;
  /** Multiplier for every time limit (1 with KVM). */
  slow: number;
  /** How the choice was made (forced, probed, cached verdict). */
  how?: string;
}

let accelCache: Accel | undefined;

function starts(accelKind: string, cpu: string): boolean {
  // A paused q35 machine with the CPU model: KVM and MSR setup happen before "quit".
  const probe = spawnSync(
    QEMU,
    [
      "-machine",
      `q35,accel=${accelKind}`,
      "-cpu",
      cpu,
      "-m",
      "64",
      "-nodefaults",
      "-display",
      "none",
      "-monitor",
      "stdio",
      "-S",
    ],
    { input: "quit\n", encoding: "utf8", timeout: 20_000 },
  );
  return probe.status === 0;
}

/**
 * Whether the guest kernel gets through decompression to its first line within `seconds`:
 * loaded directly, or (an image that boots itself) through the firmware and boot loader.
 */
function kernelStarts(image: GuestImage, cpu: string, seconds: number): boolean {
  const dir = mkdtempSync(join(tmpdir(), "virtwork-kvm-probe-"));
  const log = join(dir, "console.log");
  const boot =
    image.kernel && image.initrd
      ? ["-kernel", image.kernel, "-initrd", image.initrd, "-append", "console=ttyS0 panic=-1"]
      : ["-drive", `file=${image.root},format=${image.format ?? "raw"},if=virtio,snapshot=on`];
  try {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"$4" -machine q35,accel=kvm -cpu "$1" -m 256 -nodefaults -display none -no-reboot \
           -serial "file:$2" "\${@:5}" & pid=$!
         for _ in $(seq 1 $(($3 * 2))); do grep -qa "Linux version" "$2" 2>/dev/null && break; sleep 0.5; done
         kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; grep -qa "Linux version" "$2"`,
        "_",
        cpu,
        log,
        String(seconds),
        QEMU,
        ...boot,
      ],
      { encoding: "utf8", timeout: (seconds + 20) * 1000 },
    );
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where build-image.sh caches the guest disk; the accelerator verdict is cached next to it. */
const CACHE_ROOT = process.env.VIRTWORK_GUEST_CACHE || join(homedir(), ".cache", "virtwork", "guest");

/**
 * What the accelerator verdict depends on: this machine (machine-id, host kernel, CPU model
 * and flags, /dev/kvm), the qemu binary's version and the guest kernel (its path names the
 * disk recipe's hash). Any change gives a new key, so a new probe.
 */
function verdictKey(image: GuestImage): string {
  const version = spawnSync(QEMU, ["--version"], { encoding: "utf8", timeout: 20_000 }).stdout ?? "";
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  const cpuinfo = read("/proc/cpuinfo")
    .split("\n")
    .filter((l) => /^(model name|flags)\s*:/.test(l))
    .slice(0, 2)
    .join("\n");
  const parts = [
    QEMU,
    version.split("\n")[0],
    read("/etc/machine-id").trim(),
    release(),
    cpuinfo,
    existsSync("/dev/kvm") ? "kvm" : "no-kvm",
    image.kernel,
  ];
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);
}

function probe(image: GuestImage): Accel {
  const cpu = ["host", "host,-arch-capabilities"].find((c) => starts("kvm", c));
  if (cpu && kernelStarts(image, cpu, 30)) return { kind: "kvm", cpu, slow: 1 };
  return TCG;
}

const TCG: Accel = { kind: "tcg", cpu: "max", slow: 4 };

/**
 * KVM when qemu can start a machine with it here and the guest kernel actually boots under
 * it, else TCG. Nested KVM may refuse the host's IA32_ARCH_CAPABILITIES MSR ("failed to set
 * MSR 0x10a"), so that feature is dropped if needed; some nested hypervisors start a machine
 * but run it too slowly to boot, which the kernel probe catches (up to 30 s). The verdict is
 * cached per machine, qemu version and guest kernel (verdictKey) in the guest cache
 * directory, so the probe runs once per machine, not once per run. VIRTWORK_GUEST_ACCEL=tcg|kvm
 * forces a choice (and neither reads nor writes the cache).
 */
export function accel(image?: GuestImage): Accel {
  if (accelCache) return accelCache;
  const forced = process.env.VIRTWORK_GUEST_ACCEL;
  if (forced === "tcg") {
    accelCache = { ...TCG, how: "VIRTWORK_GUEST_ACCEL=tcg" };
    return accelCache;
  }
  if (forced === "kvm" || !image) {
    const cpu = ["host", "host,-arch-capabilities"].find((c) => starts("kvm", c));
    if (cpu) accelCache = { kind: "kvm", cpu, slow: 1, how: forced ? "VIRTWORK_GUEST_ACCEL=kvm" : "starts" };
    else if (forced === "kvm") throw new Error("VIRTWORK_GUEST_ACCEL=kvm, but KVM does not start here");
    else accelCache = { ...TCG, how: "KVM does not start" };
    return accelCache;
  }
  const file = join(CACHE_ROOT, `accel-${verdictKey(image)}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, "utf8")) as Accel;
    if ((cached.kind === "kvm" || cached.kind === "tcg") && typeof cached.cpu === "string") {
      accelCache = {
        kind: cached.kind,
        cpu: cached.cpu,
        slow: cached.kind === "kvm" ? 1 : 4,
        how: `cached in ${file}`,
      };
      return accelCache;
    }
  } catch {
    // no verdict yet (or an unreadable one): probe
  }
  const t = Date.now();
  const verdict = probe(image);
  mkdirSync(CACHE_ROOT, { recursive: true });
  // Written whole, then renamed: a concurrent run reads the old file or the new one, never half.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ kind: verdict.kind, cpu: verdict.cpu })}\n`);
  renameSync(tmp, file);
  accelCache = { ...verdict, how: `probed in ${((Date.now() - t) / 1000).toFixed(0)}s, cached in ${file}` };
  return accelCache;
}

/** Why guests cannot be booted here, or false. */
export function cannotBoot(): string | false {
  if (process.platform !== "linux" || process.arch !== "x64") return "needs x86-64 Linux";
  if (process.getuid?.() !== 0) return "needs root to build the guest disk (mmdebstrap, chroot)";
  // One `command -v` per tool: with several names bash succeeds when any one is found.
  const missing = [QEMU, "genisoimage", "mmdebstrap"].filter(
    (cmd) => spawnSync("bash", ["-c", 'command -v "$1"', "_", cmd], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length)
    return `needs ${missing.join(", ")} (qemu-system-x86, genisoimage, mmdebstrap: make guest-test installs them; VIRTWORK_GUEST_QEMU names the qemu binary)`;
  return false;
}

export interface GuestImage {
  /** Booted directly (-kernel/-initrd, root=LABEL=vwroot); absent: the disk boots itself (BIOS). */
  kernel?: string;
  initrd?: string;
  root: string;
  /** The root disk's format (default raw). */
  format?: "raw" | "qcow2";
}

/** Builds (cold) or finds (warm) the cached guest disk. */
export function guestImage(): GuestImage {
  const r = spawnSync(BUILD_IMAGE, [], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60_000,
  });
  if (r.status !== 0) throw new Error(`build-image.sh failed (${r.status})`);
  const dir = r.stdout.trim().split("\n").at(-1) ?? "";
  return { kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img"), root: join(dir, "root.img") };
}

/** A free TCP port on 127.0.0.1 (for a socket link between two VMs). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export type Nic =
  | { kind: "user"; mac: string }
  | { kind: "socket"; mode: "listen" | "connect"; port: number; mac: string };

export interface VmSpec {
  name: string;
  dir: string;
  image: GuestImage;
  userData: string;
  /** Extra cloud-config from the "platform" (merged by cloud-init; user-data wins). */
  vendorData?: string;
  /** NoCloud network-config (v2). */
  networkConfig?: string;
  dataDisks: { serial: string; sizeGiB: number }[];
  memMiB: number;
  cpus: number;
  nic: Nic;
  /** More NICs (point-to-point links to several peers), after `nic`. */
  extraNics?: Nic[];
  /** Kernel arguments after KERNEL_ARGS (for measuring one against another). */
  kernelArgs?: string;
}

export class Vm {
  readonly agent: GuestAgent;
  /** QEMU's own monitor: block statistics and vCPU threads (counters.ts). */
  readonly qmp: Qmp;
  readonly console: string;
  readonly spec: VmSpec;
  private readonly child: ChildProcess;
  private exited: Promise<number | null>;

  constructor(spec: VmSpec, child: ChildProcess, stderr: () => string) {
    this.spec = spec;
    this.child = child;
    this.agent = new GuestAgent(join(spec.dir, "qga.sock"));
    this.qmp = new Qmp(join(spec.dir, "qmp.sock"));
    this.console = join(spec.dir, "console.log");
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    this.exited.then((code) => {
      if (code !== 0 && code !== null) console.error(`[${spec.name}] qemu exited ${code}: ${stderr()}`);
    });
  }

  /** qemu's process id (its vCPU threads are tasks of it). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Bytes written to the serial console so far (a sign of progress). */
  consoleBytes(): number {
    try {
      return statSync(this.console).size;
    } catch {
      return 0;
    }
  }

  consoleTail(lines = 60): string {
    if (!existsSync(this.console)) return "(no console output)";
    return readFileSync(this.console, "utf8").split("\n").slice(-lines).join("\n");
  }

  async stop(): Promise<void> {
    this.agent.close();
    this.qmp.close();
    if (this.running) this.child.kill("SIGTERM");
    await Promise.race([this.exited, sleep(10_000)]);
    if (this.running) this.child.kill("SIGKILL");
  }
}

function seed(spec: VmSpec): string {
  const dir = join(spec.dir, "seed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "user-data"), spec.userData);
  writeFileSync(
    join(dir, "meta-data"),
    `instance-id: ${spec.name}-${Date.now()}\nlocal-hostname: ${spec.name}\n`,
  );
  const files = ["user-data", "meta-data"];
  if (spec.vendorData !== undefined) {
    writeFileSync(join(dir, "vendor-data"), spec.vendorData);
    files.push("vendor-data");
  }
  if (spec.networkConfig !== undefined) {
    writeFileSync(join(dir, "network-config"), spec.networkConfig);
    files.push("network-config");
  }
  const iso = join(spec.dir, "seed.iso");
  const r = spawnSync(
    "genisoimage",
    ["-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", ...files],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`genisoimage: ${r.stderr}`);
  return iso;
}

/**
 * mitigations=off: the guest runs only the suite's own code, and under TCG the speculative-
 * execution mitigations (retpolines, RSB filling) are pure cost — measured: two guests booted
 * at once from the same user-data, with it the agent answered at 249 s instead of 265 s and
 * cloud-init finished at 494 s instead of 525 s (load 18-20).
 * no_timer_check: on a loaded host the emulated timer can miss the kernel's early check, which
 * then panics ("IO-APIC + timer doesn't work!", seen at load 11-15 under TCG); virtual
 * machines do not need the check (cloud images boot with it too).
 */
const KERNEL_ARGS = "root=LABEL=vwroot rw console=ttyS0 panic=-1 mitigations=off no_timer_check";

export async function startVm(spec: VmSpec): Promise<Vm> {
  mkdirSync(spec.dir, { recursive: true });
  const a = accel();
  const args = [
    "-name",
    `virtwork-test-${spec.name}`,
    "-machine",
    `q35,accel=${a.kind}`,
    "-cpu",
    a.cpu,
    "-smp",
    String(spec.cpus),
    "-m",
    String(spec.memMiB),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    `file:${join(spec.dir, "console.log")}`,
    ...(spec.image.kernel && spec.image.initrd
      ? [
          "-kernel",
          spec.image.kernel,
          "-initrd",
          spec.image.initrd,
          "-append",
          [KERNEL_ARGS, spec.kernelArgs].filter(Boolean).join(" "),
        ]
      : []),
    "-no-reboot",
    // Booted by the firmware: the root disk first (SeaBIOS boots only the first hard disk,
    // which would otherwise be whichever virtio disk has the lowest PCI slot).
    ...(spec.image.kernel
      ? ["-drive", `file=${spec.image.root},format=${spec.image.format ?? "raw"},if=virtio,snapshot=on`]
      : [
          "-drive",
          `file=${spec.image.root},format=${spec.image.format ?? "raw"},if=none,id=root,snapshot=on`,
          "-device",
          "virtio-blk-pci,drive=root,bootindex=0",
        ]),
    "-drive",
    `file=${seed(spec)},format=raw,if=virtio,readonly=on`,
    "-qmp",
    `unix:${join(spec.dir, "qmp.sock")},server=on,wait=off`,
    "-chardev",
    `socket,id=qga0,path=${join(spec.dir, "qga.sock")},server=on,wait=off`,
    "-device",
    "virtio-serial-pci",
    "-device",
    "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
    "-object",
    "rng-random,id=rng0,filename=/dev/urandom",
    "-device",
    "virtio-rng-pci,rng=rng0",
  ];
  spec.dataDisks.forEach((d, i) => {
    const file = join(spec.dir, `data${i}.img`);
    writeFileSync(file, "");
    truncateSync(file, d.sizeGiB * 1024 ** 3);
    args.push("-drive", `file=${file},format=raw,if=none,id=data${i},cache=unsafe`);
    args.push("-device", `virtio-blk-pci,drive=data${i},serial=${d.serial}`);
  });
  [spec.nic, ...(spec.extraNics ?? [])].forEach((nic, i) => {
    const netdev =
      nic.kind === "user" ? `user,id=n${i},restrict=on` : `socket,id=n${i},${nic.mode}=127.0.0.1:${nic.port}`;
    args.push("-netdev", netdev, "-device", `virtio-net-pci,netdev=n${i},mac=${nic.mac}`);
  });
  let stderr = "";
  const child = spawn(QEMU, args, { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const vm = new Vm(spec, child, () => stderr);
  await sleep(500);
  if (!vm.running) throw new Error(`qemu for ${spec.name} did not start: ${stderr}`);
  return vm;
}
