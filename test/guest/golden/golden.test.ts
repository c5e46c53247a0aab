/**
 * The Debian golden image, end to end: built from Debian's packages (images/golden/debian/
 * build.sh), wrapped as a KubeVirt containerdisk and pushed with crane to a distribution
 * registry on 127.0.0.1 (images/golden/push-containerdisk.sh; both tools from the Go module
 * proxy, scripts/install-golden-tools.sh), pulled back and booted by its own firmware and boot
 * loader (no -kernel) with the user-data of `virtwork run --guest-os debian --golden-image
 * --container-disk-image <that image>`: it installs nothing, and every built-in workload's
 * unit becomes active.
 *
 * Two guests hold all nine built-in workloads (each guest's user-data is the workloads'
 * documents merged: their files and runcmd, nothing else): A runs cpu, memory, disk,
 * database and the network and tps servers; B runs the network and tps clients, chaos-disk,
 * chaos-network and chaos-process (a server and its client share a unit name, and disk and
 * chaos-disk a setup script, so they sit in different guests). A point-to-point link joins
 * them, and B's "platform" /etc/hosts resolves the servers' Service names to A.
 *
 * VIRTWORK_GUEST_KEEP=1 keeps the work directory (disks, consoles).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { CLOUD_CONFIG_HEADER } from "../../../src/cloudinit/cloud-config.ts";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { silentLogger } from "../../../src/log/logger.ts";
import type { Secret, VirtualMachine } from "../../../src/manifests/objects.ts";
import { prepareRun } from "../../../src/plan/prepare.ts";
import { toYaml } from "../../../src/util/yaml-emit.ts";
import { sh } from "../boot/cases.ts";
import { scale, setAccelSlow } from "../boot/pace.ts";
import { untilProgress } from "../boot/progress.ts";
import { accel, cannotBoot, freePort, type GuestImage, startVm, type Vm } from "../boot/qemu.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BUILD = join(REPO, "images/golden/debian/build.sh");
const PUSH = join(REPO, "images/golden/push-containerdisk.sh");
const TOOLS = join(REPO, "scripts/install-golden-tools.sh");
const RUN_ID = "00000000-0000-4000-8000-00000000601d";
const HARD_SECONDS = 60 * 60;
const keep = process.env.VIRTWORK_GUEST_KEEP === "1";
const skip = cannotBoot();

/** Light params: nine workloads share two TCG guests. */
const PARAMS: Record<string, Record<string, string>> = {
  cpu: {},
  memory: { "memory-percent": "20" },
  disk: { numjobs: "1", runtime: "30" },
  database: { "scale-factor": "1", clients: "2", duration: "20" },
  network: { "parallel-streams": "1", "test-duration": "3" },
  tps: { "file-size": "64K", iterations: "2", duration: "3" },
  "chaos-disk": { "fill-percent": "40", "fill-sleep": "6", "release-sleep": "6" },
  "chaos-network": { "latency-ms": "20", "packet-loss-percent": "1" },
  "chaos-process": { signal: "SIGTERM", interval: "5" },
};
const GUESTS = {
  a: ["cpu", "memory", "disk", "database", "network/server", "tps/server"],
  b: ["network/client", "tps/client", "chaos-disk", "chaos-network", "chaos-process"],
} as const;
/** What a client's journal shows once it has talked to its server. */
const CLIENT_DONE: Record<string, RegExp> = { network: /iperf Done/, tps: /Round 1\/2 completed/ };

const LINK = {
  a: { ip: "10.77.200.1", mac: "52:54:00:77:c8:01" },
  b: { ip: "10.77.200.2", mac: "52:54:00:77:c8:02" },
};
const USER_MAC = { a: "52:54:00:12:34:a1", b: "52:54:00:12:34:b1" };

function log(msg: string): void {
  console.log(`# ${msg}`);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 45 * 60_000) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
  return { out: r.stdout.trim(), seconds: Math.round((Date.now() - t0) / 1000) };
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

interface Part {
  workload: string;
  role?: string;
  doc: Record<string, unknown>;
  unit: string;
  serials: string[];
  image: string;
}

/** `virtwork run --guest-os debian --golden-image --container-disk-image <image> -w <all nine>`, through the real plan. */
function renderGolden(image: string): Part[] {
  const { plan } = prepareRun({
    flags: {
      workloads: Object.keys(PARAMS),
      params: Object.entries(PARAMS).flatMap(([w, ps]) =>
        Object.entries(ps).map(([k, v]) => `${w}.${k}=${v}`),
      ),
      "guest-os": "debian",
      "container-disk-image": image,
      "golden-image": true,
    },
    env: {},
    logger: silentLogger,
    runId: RUN_ID,
  });
  const byName = new Map(plan.objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
  return plan.vms.map((vm) => {
    const text = (byName.get(`Secret/${vm.secretName}`) as Secret | undefined)?.stringData?.userdata ?? "";
    assert.ok(text.startsWith(CLOUD_CONFIG_HEADER), `${vm.name}: a cloud-config`);
    const doc = parse(text) as Record<string, unknown>;
    const unit = /path: \/etc\/systemd\/system\/(virtwork-[a-z0-9-]+\.service)/.exec(text)?.[1] ?? "";
    const machine = byName.get(`VirtualMachine/${vm.name}`) as VirtualMachine | undefined;
    const spec = machine?.spec?.template.spec;
    const disks = (spec?.domain?.devices?.disks ?? []) as { serial?: string }[];
    const serials = disks.flatMap((d) => (d.serial ? [d.serial] : []));
    const volumes = (spec?.volumes ?? []) as { containerDisk?: { image: string } }[];
    return {
      workload: vm.workload,
      ...(vm.role !== undefined ? { role: vm.role } : {}),
      doc,
      unit,
      serials,
      image: volumes.find((v) => v.containerDisk)?.containerDisk?.image ?? "",
    };
  });
}

/** One guest's user-data: the parts' files and commands, in order (nothing else is in them). */
function merge(parts: Part[]): string {
  const files: GuestFile[] = [];
  const runcmd: string[][] = [];
  for (const p of parts) {
    for (const f of (p.doc.write_files ?? []) as GuestFile[]) {
      const same = files.find((x) => x.path === f.path);
      assert.ok(
        !same || same.content === f.content,
        `${p.workload}: ${f.path} differs from another workload's`,
      );
      if (!same) files.push(f);
    }
    runcmd.push(...((p.doc.runcmd ?? []) as string[][]));
  }
  return CLOUD_CONFIG_HEADER + toYaml({ write_files: files, runcmd });
}

function networkConfig(user: string, link: { mac: string; ip: string }): string {
  // Like a pod network on the user NIC (an address and a default route: chaos-network needs
  // one), and the link between the two guests.
  return [
    "version: 2",
    "ethernets:",
    "  pod:",
    "    match:",
    `      macaddress: "${user}"`,
    "    addresses: [10.0.2.15/24]",
    "    routes:",
    "      - to: 0.0.0.0/0",
    "        via: 10.0.2.2",
    "  link:",
    "    match:",
    `      macaddress: "${link.mac}"`,
    `    addresses: [${link.ip}/24]`,
    "",
  ].join("\n");
}

function hostsVendorData(entries: [host: string, ip: string][]): string {
  return `#cloud-config\nbootcmd:\n${entries
    .map(
      ([host, ip]) =>
        `  - [sh, -c, "grep -q ' ${host}$' /etc/hosts || echo '${ip} ${host}' >> /etc/hosts"]\n`,
    )
    .join("")}`;
}

function serviceHosts(image: string): string[] {
  const { plan } = prepareRun({
    flags: {
      workloads: ["network", "tps"],
      "guest-os": "debian",
      "container-disk-image": image,
      "golden-image": true,
    },
    env: {},
    logger: silentLogger,
    runId: RUN_ID,
  });
  return plan.objects
    .filter((o): o is VirtualMachine => o.kind === "VirtualMachine" && !!o.spec?.template.spec?.subdomain)
    .map((o) => {
      const s = o.spec?.template.spec;
      return `${s?.hostname}.${s?.subdomain}.${plan.namespace}.svc.cluster.local`;
    });
}

function waitProgress<T>(what: string, vms: Vm[], poll: () => Promise<T | undefined>): Promise<T> {
  return untilProgress({
    what,
    vms,
    stallSeconds: Math.round(90 * scale()),
    hardSeconds: HARD_SECONDS,
    poll,
    sign: async (vm) =>
      (await vm.agent.sh("tr -d ' \\n' </run/cloud-init/status.json 2>/dev/null | head -c 400")).stdout,
  });
}

describe("the Debian golden image: built, pushed, pulled, booted; every built-in workload runs", {
  skip,
  concurrency: 1,
}, () => {
  const work = mkdtempSync(join(tmpdir(), "virtwork-golden-"));
  let registry: ChildProcess | undefined;
  let built = "";
  let crane = "";
  let ref = "";
  let pulled: GuestImage;
  const t0 = Date.now();
  const since = () => `+${((Date.now() - t0) / 1000).toFixed(0)}s`;

  after(async () => {
    registry?.kill("SIGTERM");
    if (!keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  });

  before(async () => {
    const image = run(BUILD, []);
    built = join(image.out.split("\n").at(-1) ?? "", "disk.qcow2");
    log(`golden disk ${built} (${image.seconds}s; warm: the cached one)`);
    const tools = run(TOOLS, []);
    const path = (name: string) => tools.out.match(new RegExp(`^${name}=(.+)$`, "m"))?.[1] ?? "";
    crane = path("crane");
    const registryBin = path("registry");
    assert.ok(crane && registryBin, `install-golden-tools.sh printed both tools: ${tools.out}`);
    log(`crane and registry ready (${tools.seconds}s)`);

    const port = await freePort();
    const config = join(work, "registry.yml");
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, "registry")}\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomUUID()}\n`,
    );
    // No tracing exporter (it would post to localhost:4318 and log each failure).
    registry = spawn(registryBin, ["serve", config], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, OTEL_TRACES_EXPORTER: "none", OTEL_SDK_DISABLED: "true" },
    });
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      assert.ok(i < 60 && registry.exitCode === null, "the registry answers /v2/ on 127.0.0.1");
      await sleep(500);
    }
    ref = `127.0.0.1:${port}/virtwork/golden-debian:bookworm`;
    log(`registry on 127.0.0.1:${port} ${since()}`);
  });

  test("the containerdisk goes to the registry and comes back as it was", {
    timeout: HARD_SECONDS * 1000,
  }, async () => {
    const pushed = run(PUSH, [built, ref, "debian"], { CRANE: crane });
    assert.match(pushed.out, /@sha256:[0-9a-f]{64}$/);
    log(`pushed ${pushed.out} (${pushed.seconds}s)`);
    const config = JSON.parse(run(crane, ["config", ref]).out) as {
      os: string;
      architecture: string;
      config?: { Labels?: Record<string, string> };
    };
    assert.equal(`${config.os}/${config.architecture}`, "linux/amd64");
    assert.equal(config.config?.Labels?.["io.virtwork.golden-image"], "debian");

    // Pulled back as a node would: the image's file system, one file /disk/disk.qcow2 owned by qemu (107).
    const tar = join(work, "pulled.tar");
    run("bash", ["-c", `"$1" export "$2" "$3"`, "_", crane, ref, tar]);
    const listing = run("tar", ["-tvf", tar, "--numeric-owner"]).out;
    const entries = listing.split("\n").filter((l) => !l.startsWith("d"));
    assert.equal(entries.length, 1, `one file in the image:\n${listing}`);
    assert.match(entries[0] ?? "", /^-r[w-]-r--r-- 107\/107 .* disk\/disk\.qcow2$/);
    run("tar", ["-xf", tar, "-C", work, "disk/disk.qcow2"]);
    const disk = join(work, "disk/disk.qcow2");
    assert.equal(await sha256(disk), await sha256(built), "the pulled disk is the built one");
    pulled = { root: disk, format: "qcow2" };
    log(`pulled back and checked ${since()}`);
  });

  test("booted by its own boot loader with the installs-nothing user-data, every built-in workload's unit is active", {
    timeout: 2 * HARD_SECONDS * 1000,
  }, async () => {
    assert.ok(pulled, "the image was pulled");
    setAccelSlow(accel(pulled).slow);
    log(`accelerator: ${accel(pulled).kind}`);
    const parts = renderGolden(ref);
    assert.deepEqual([...new Set(parts.map((p) => p.workload))].sort(), Object.keys(PARAMS).sort());
    for (const p of parts) {
      const where = `${p.workload}${p.role ? `/${p.role}` : ""}`;
      assert.equal(p.image, ref, `${where} boots the golden image`);
      // Installs nothing: no packages, no package manager run, no repository setup.
      for (const key of ["packages", "package_update", "package_upgrade", "apt", "yum_repos", "bootcmd"])
        assert.equal(p.doc[key], undefined, `${where}: no ${key}`);
      assert.deepEqual(
        Object.keys(p.doc).sort(),
        ["runcmd", "write_files"],
        `${where}: only files and commands`,
      );
      const commands = JSON.stringify(p.doc.runcmd);
      assert.doesNotMatch(
        commands,
        /apt-get|apt |dnf|yum|rpm -i|dpkg -i/,
        `${where}: runcmd installs nothing`,
      );
      assert.ok(p.unit, `${where} has a unit`);
    }
    const pick = (names: readonly string[]) =>
      names.map((n) => {
        const [workload, role] = n.split("/");
        const p = parts.find((x) => x.workload === workload && (role === undefined || x.role === role));
        assert.ok(p, `a part for ${n}`);
        return p;
      });
    const a = pick(GUESTS.a);
    const b = pick(GUESTS.b);

    const dir = join(work, "vms");
    const port = await freePort();
    const vms: Vm[] = [];
    try {
      const boot = async (name: "a" | "b", mine: Part[], vendorData?: string) => {
        const vm = await startVm({
          name: `golden-${name}`,
          dir: join(dir, name),
          image: pulled,
          userData: merge(mine),
          ...(vendorData ? { vendorData } : {}),
          networkConfig: networkConfig(USER_MAC[name], LINK[name]),
          dataDisks: mine.flatMap((p) => p.serials.map((serial) => ({ serial, sizeGiB: 2 }))),
          memMiB: name === "a" ? 2048 : 1024,
          cpus: name === "a" ? 2 : 1,
          nic: { kind: "user", mac: USER_MAC[name] },
          extraNics: [
            { kind: "socket", mode: name === "a" ? "listen" : "connect", port, mac: LINK[name].mac },
          ],
        });
        vms.push(vm);
        return vm;
      };
      const vmA = await boot("a", a);
      const vmB = await boot(
        "b",
        b,
        hostsVendorData(serviceHosts(ref).map((h): [string, string] => [h, LINK.a.ip])),
      );
      log(`guests started ${since()}`);
      await waitProgress("guest agents to answer", vms, async () => {
        for (const vm of vms) if (!vm.agent.answered) await vm.agent.sync(10_000);
        return true;
      });
      log(`agents up ${since()}`);
      for (const vm of vms) {
        const result = await waitProgress(`${vm.spec.name}: cloud-init to finish`, [vm], async () => {
          const r = await vm.agent.sh("cat /run/cloud-init/result.json");
          return r.code === 0 ? r.stdout : undefined;
        });
        const status = await vm.agent.sh("cloud-init status --long", 120_000);
        const errors = (JSON.parse(result) as { v1: { errors: string[] } }).v1.errors;
        assert.deepEqual(errors, [], `${vm.spec.name}: cloud-init without errors:\n${status.stdout}`);
        // Nothing installed at boot: cloud-init logs every command it runs. Queries such as
        // `dpkg --print-architecture` (cc_apt_configure on Debian) install nothing and are allowed.
        const ran = await sh(
          vm,
          "grep -E \"Running command \\[.(eatmydata', .)?(apt-get|apt|dnf|yum)', .*'(install|update|upgrade|dist-upgrade)'|Running command \\[.dpkg', .(-i|--install)'\" /var/log/cloud-init.log || true",
        );
        assert.equal(ran, "", `${vm.spec.name}: cloud-init installed nothing, but ran:\n${ran}`);
      }
      log(`cloud-init done, nothing installed ${since()}`);

      const active = async (vm: Vm, mine: Part[]) => {
        const units = mine.map((p) => p.unit);
        const states = await waitProgress(`${vm.spec.name}: ${units.join(", ")} active`, [vm], async () => {
          const r = await vm.agent.sh(`systemctl is-active ${units.join(" ")}`);
          const s = r.stdout.trim().split("\n");
          return s.length === units.length && s.every((x) => x === "active") ? s : undefined;
        });
        for (const [i, p] of mine.entries()) {
          log(`${vm.spec.name}: ${p.workload}${p.role ? ` ${p.role}` : ""}: ${p.unit} ${states[i]}`);
        }
      };
      await active(vmA, a);
      await active(vmB, b);
      // The pairs do their work: each client has talked to its server in the other guest.
      for (const p of b.filter((x) => x.role === "client")) {
        const done = CLIENT_DONE[p.workload] ?? /$^/;
        await waitProgress(`${p.workload} client to finish a round`, [vmB], async () => {
          const j = await sh(vmB, `journalctl -u ${p.unit} -o cat --no-pager`);
          return done.test(j) ? true : undefined;
        });
        log(
          `${p.workload}: the client in golden-b finished a round against its server in golden-a ${since()}`,
        );
      }
      // And still active after that (a failing unit would restart and flap).
      await active(vmA, a);
      await active(vmB, b);
      log(`all ${parts.length} units of ${Object.keys(PARAMS).length} workloads active ${since()}`);
    } catch (err) {
      for (const vm of vms) log(`${vm.spec.name} console:\n${vm.consoleTail(40)}`);
      throw err;
    } finally {
      await Promise.all(vms.map((v) => v.stop()));
      if (keep) for (const vm of vms) writeFileSync(join(vm.spec.dir, "tail.txt"), vm.consoleTail(400));
    }
  });
});
