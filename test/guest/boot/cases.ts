/**
 * One booted-guest case per built-in workload: what virtwork renders for guest-os debian
 * (through the real config → plan path), the VMs it needs, and the in-guest signal that shows
 * the workload actually works. Checks run from outside through the guest agent.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../../../src/log/logger.ts";
import type { KubeObject, Secret, VirtualMachine } from "../../../src/manifests/objects.ts";
import { prepareRun } from "../../../src/plan/prepare.ts";
import { EXCLUDED_PROCESSES } from "../../../src/workloads/builtin/chaos-process.ts";
import { LOGIN_PASSWORD, LOGIN_USER, renderedHash } from "./login.ts";
import { scale } from "./pace.ts";
import type { Vm } from "./qemu.ts";

export const GUEST_OS = "debian";
const RUN_ID = "00000000-0000-4000-8000-00000000b007";

export interface RenderedVm {
  /** The VirtualMachine's name, e.g. virtwork-tps-client-1. */
  name: string;
  role?: string;
  /** Which of `--vm-count` this VM is (server i pairs with client i). */
  index: number;
  userData: string;
  serials: string[];
  /** The workload's systemd unit in this guest. */
  unit: string;
}

export interface Rendered {
  vms: RenderedVm[];
  /**
   * The name client i uses for server i (hostname.subdomain.namespace.svc.cluster.local: the
   * headless Service's per-VM name), by server index; empty for a single-role workload.
   */
  serverHosts: string[];
  /** With a password: the SHA-512 crypt hash in the user-data (login.ts). */
  hash?: string;
}

export interface RenderOptions {
  /** `--vm-count`: every VM is booted (a server/client workload: that many pairs). */
  vmCount?: number;
  /** `--ssh-user vwtester` with VIRTWORK_SSH_PASSWORD (login.ts). */
  login?: boolean;
}

function serialsOf(obj: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "serial" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(obj);
  return out;
}

/**
 * Renders a workload as `virtwork run --guest-os debian -w <name> --params …` would (with
 * `--vm-count N` and `--ssh-user … ` + VIRTWORK_SSH_PASSWORD when asked): the real config →
 * plan path. Each VM's user-data is its own Secret's, unchanged.
 */
export function render(workload: string, params: Record<string, string>, opts: RenderOptions = {}): Rendered {
  const { plan } = prepareRun({
    flags: {
      workloads: [workload],
      params: Object.entries(params).map(([k, v]) => `${workload}.${k}=${v}`),
      "guest-os": GUEST_OS,
      ...(opts.vmCount ? { "vm-count": String(opts.vmCount) } : {}),
      ...(opts.login ? { "ssh-user": LOGIN_USER } : {}),
    },
    env: opts.login ? { VIRTWORK_SSH_PASSWORD: LOGIN_PASSWORD } : {},
    logger: silentLogger,
    runId: RUN_ID,
  });
  const byName = new Map<string, KubeObject>(plan.objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
  let hash: string | undefined;
  const vms = plan.vms
    .filter((vm) => vm.workload === workload)
    .map((vm) => {
      const secret = byName.get(`Secret/${vm.secretName}`) as Secret | undefined;
      const userData = secret?.stringData?.userdata;
      assert.ok(userData, `user-data of ${vm.name}`);
      const unit = /path: \/etc\/systemd\/system\/(virtwork-[a-z0-9-]+\.service)/.exec(userData)?.[1];
      assert.ok(unit, `a virtwork unit in ${vm.name}`);
      if (opts.login) hash = renderedHash(userData, JSON.stringify(secret));
      // virtwork-<workload>-<role>-<i>: server i pairs with client i.
      const index = Number(/-(\d+)$/.exec(vm.name)?.[1] ?? 0);
      return {
        name: vm.name,
        ...(vm.role !== undefined ? { role: vm.role } : {}),
        index,
        userData,
        serials: serialsOf(byName.get(`VirtualMachine/${vm.name}`)),
        unit,
      };
    });
  // Without --vm-count, one VM per role is enough.
  const unique = opts.vmCount ? vms : vms.filter((v) => v.index === 0);
  const serverHosts = unique
    .filter((v) => v.role === "server")
    .sort((a, b) => a.index - b.index)
    .map((v) => {
      const spec = (byName.get(`VirtualMachine/${v.name}`) as VirtualMachine | undefined)?.spec?.template
        .spec;
      assert.ok(spec?.hostname && spec.subdomain, `${v.name} has hostname and subdomain`);
      return `${spec.hostname}.${spec.subdomain}.${plan.namespace}.svc.cluster.local`;
    });
  return { vms: unique, serverHosts, ...(hash ? { hash } : {}) };
}

/** The link between server s and client c: its own /24 (10.77.<10+s*pairs+c>.0), server .1, client .2. */
export function link(s: number, c: number, pairs: number) {
  const net = 10 + s * pairs + c;
  const mac = (side: number) => `52:54:00:77:${net.toString(16).padStart(2, "0")}:0${side}`;
  return {
    server: { ip: `10.77.${net}.1`, mac: mac(1) },
    client: { ip: `10.77.${net}.2`, mac: mac(2) },
  };
}

export interface Ctx {
  /** VMs by key: "" for a single-role workload, else "<role>-<index>" (server-0, client-1, …). */
  vm: Record<string, Vm>;
  /** The workload unit by role ("server", "client"; "" for a single-role workload). */
  unit: Record<string, string>;
  /** Number of server/client pairs (0 for a single-role workload). */
  pairs: number;
  slow: number;
  log: (msg: string) => void;
}

/** What proves client i talks to server i only (a server/client workload booted with --vm-count 2). */
export interface PairProof {
  /** Shell lines printing, one per line and unique, the peers the server's journal says reached it. */
  peers: string;
  /** A port that is closed on the servers: "connection refused" shows a server is reachable. */
  probePort: number;
}

export interface Case {
  workload: string;
  params: Record<string, string>;
  memMiB?: number;
  dataDiskGiB?: number;
  /** Boot `--vm-count 2`: two pairs, every client linked to both servers; the proof of identity. */
  pairs?: PairProof;
  /** Render with --ssh-user and a password; the login proof runs in this guest (login.ts). */
  login?: boolean;
  /** Other names VIRTWORK_GUEST_CASES may use for this case ("login", "pairs"). */
  aliases?: string[];
  check: (ctx: Ctx) => Promise<void>;
}

/** The clients of a server/client case, by index. */
export function clientsOf(ctx: Ctx): Vm[] {
  return Object.entries(ctx.vm)
    .filter(([k]) => k.startsWith("client-"))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, v]) => v);
}

export async function sh(vm: Vm, script: string, timeoutMs = 60_000): Promise<string> {
  const r = await vm.agent.sh(script, timeoutMs);
  if (r.code !== 0) throw new Error(`guest: ${script}\nexit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Polls until `fn` returns a value (not undefined) or the time is up: `seconds` × the host's
 * pace when the wait starts (TCG ×4, × load per core up to ×4; pace.ts).
 */
export async function until<T>(what: string, seconds: number, fn: () => Promise<T | undefined>): Promise<T> {
  const limit = Math.round(seconds * scale());
  const deadline = Date.now() + limit * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${limit}s (${seconds}s × pace) waiting for ${what}${last ? `: ${last}` : ""}`,
      );
    await sleep(2000);
  }
}

async function cpuBusy(vm: Vm, seconds: number): Promise<number> {
  const out = await sh(vm, `head -n1 /proc/stat; sleep ${seconds}; head -n1 /proc/stat`);
  const [a, b] = out.split("\n").map((l) => l.trim().split(/\s+/).slice(1).map(Number));
  const total = (x: number[]) => x.reduce((s, v) => s + v, 0);
  const idle = (x: number[]) => (x[3] ?? 0) + (x[4] ?? 0);
  if (!a || !b) throw new Error(`bad /proc/stat: ${out}`);
  return 1 - (idle(b) - idle(a)) / (total(b) - total(a));
}

/** The block device behind /dev/disk/by-id/virtio-<serial>, and the source mounted at `mount`. */
async function mountedBySerial(vm: Vm, serial: string, mount: string): Promise<void> {
  const out = await sh(
    vm,
    `readlink -f /dev/disk/by-id/virtio-${serial}; findmnt -n -o SOURCE --target ${mount}`,
  );
  const [dev, source] = out.split("\n");
  assert.ok(dev?.startsWith("/dev/vd"), `disk with serial ${serial}: ${out}`);
  assert.equal(source, dev, `${mount} is the disk with serial ${serial}`);
}

async function sectorsWritten(vm: Vm, dev: string): Promise<number> {
  return Number((await sh(vm, `cat /sys/block/${dev.replace("/dev/", "")}/stat`)).split(/\s+/)[6]);
}

async function journal(vm: Vm, unit: string): Promise<string> {
  return sh(vm, `journalctl -u ${unit} -o cat --no-pager`);
}

const EXCLUDE = new RegExp(`^(${EXCLUDED_PROCESSES.join("|")})$`);

export const CASES: Case[] = [
  {
    workload: "cpu",
    params: {},
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      await sh(g, "pgrep stress-ng");
      const busy = await cpuBusy(g, 5);
      log(`cpu busy ${(busy * 100).toFixed(0)}%`);
      assert.ok(busy > 0.8, `CPU busy under stress-ng: ${(busy * 100).toFixed(0)}%`);
    },
  },
  {
    workload: "memory",
    params: { "memory-percent": "60" },
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      // stress-ng --vm unmaps and remaps between bogo ops (no --vm-keep), so RSS dips: the
      // most held over a few seconds is the signal.
      const held = async () => {
        const out = await sh(
          g,
          "awk '/^MemTotal:/ { print $2 }' /proc/meminfo; for _ in 1 2 3 4 5; do ps -eo rss=,comm= | awk '$2 ~ /^stress-ng/ { s += $1 } END { print s + 0 }'; sleep 1; done",
        );
        const [total, ...rss] = out.split("\n").map(Number);
        return Math.max(...rss) / (total ?? 1);
      };
      // Idle, stress-ng holds nothing; a quarter of RAM is an unmistakable signal even when
      // an emulated CPU touches pages slowly.
      const holding = async () => {
        const h = await held();
        return h > 0.25 ? h : undefined;
      };
      const first = await until("stress-ng to hold memory", 90, holding);
      await sleep(10_000);
      const second = await until("stress-ng to still hold memory", 60, holding);
      log(`stress-ng holds ${(first * 100).toFixed(0)}% then ${(second * 100).toFixed(0)}% of RAM`);
      assert.ok(second > 0.25, `memory still held: ${(second * 100).toFixed(0)}%`);
    },
  },
  {
    workload: "disk",
    params: { numjobs: "1", runtime: "30" },
    dataDiskGiB: 4,
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      await mountedBySerial(g, "virtwork-disk", "/mnt/data");
      const dev = await sh(g, "readlink -f /dev/disk/by-id/virtio-virtwork-disk");
      await until("fio running", 60, async () =>
        (await g.agent.sh("pgrep -x fio")).code === 0 ? true : undefined,
      );
      const a = await sectorsWritten(g, dev);
      await sleep(8000);
      const b = await sectorsWritten(g, dev);
      log(`fio wrote ${((b - a) / 2048).toFixed(0)} MiB to ${dev} in 8s`);
      assert.ok(b > a, `fio writes to the data disk (${a} -> ${b} sectors)`);
    },
  },
  {
    workload: "database",
    params: { "scale-factor": "1", clients: "2", duration: "20" },
    memMiB: 1536,
    dataDiskGiB: 2,
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      await mountedBySerial(g, "virtwork-dbdisk", "/var/lib/postgresql/virtwork");
      // pgbench truncates pgbench_history at the start of every round, so its row count is not
      // monotonic; the database's committed transactions are. pgbench_history proves the
      // benchmark itself (not just psql) ran.
      const psql = async (query: string) =>
        Number(await sh(g, `cd / && runuser -u postgres -- psql -tAc "${query}" pgbench`));
      const commits = () => psql("SELECT xact_commit FROM pg_stat_database WHERE datname = 'pgbench'");
      await until("pgbench transactions", 90, async () =>
        (await psql("SELECT count(*) FROM pgbench_history")) > 0 ? true : undefined,
      );
      // Rounds are separated by a 10 s pause: wait across one if need be.
      const first = await commits();
      const second = await until("pgbench transactions to increase", 60, async () => {
        const n = await commits();
        return n > first + 10 ? n : undefined;
      });
      log(`committed transactions in pgbench ${first} -> ${second}`);
      const dataDir = await sh(g, `cd / && runuser -u postgres -- psql -tAc "SHOW data_directory"`);
      assert.equal(dataDir, "/var/lib/postgresql/virtwork", "the cluster's data is on the data disk");
    },
  },
  {
    workload: "chaos-disk",
    params: { "fill-percent": "60", "fill-sleep": "6", "release-sleep": "6" },
    dataDiskGiB: 1,
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      await mountedBySerial(g, "virtwork-chdisk", "/mnt/data");
      // A sample can land between fallocate creating the file and the blocks being
      // allocated (slow on a loaded machine), so a "full" sample may still show the old
      // usage: the check asks for one full sample at the target and a release after it.
      const target = 55; // percent used: a margin under the 60% fill
      const seen: string[] = [];
      let filledTo = 0;
      const done = () => filledTo >= target && seen.at(-1) === "empty" && seen.includes("full");
      // Load-paced like until(): the cycle is 12 s, the window ten of them at a quiet pace.
      const deadline = Date.now() + 120_000 * scale();
      while (Date.now() < deadline && !done()) {
        const out = await sh(
          g,
          "test -e /mnt/data/chaos-disk-fill && echo full || echo empty; df --output=pcent /mnt/data | tail -n1",
        );
        const [state, pcent] = out.split("\n");
        const used = Number.parseInt(pcent ?? "", 10);
        if (state === "full" && used > filledTo) filledTo = used;
        if (seen.at(-1) !== state) seen.push(state ?? "");
        await sleep(1000);
      }
      log(`fill file states: ${seen.join(" -> ")}; highest usage while full: ${filledTo}%`);
      if (filledTo < target) {
        const lines = (await journal(g, "virtwork-chaos-disk.service")).split("\n").slice(-8).join(" | ");
        assert.fail(
          `the disk is filled to the 60% target at some point: highest ${filledTo}%; journal: ${lines}`,
        );
      }
      const appeared = seen.indexOf("full");
      assert.ok(
        appeared >= 0 && seen.lastIndexOf("empty") > appeared,
        `fill file appears and goes: ${seen.join(" -> ")}`,
      );
    },
  },
  {
    workload: "chaos-network",
    params: { "latency-ms": "50", "packet-loss-percent": "1.5" },
    // A quiet guest (netem on the default route; ssh to 127.0.0.1 goes over lo).
    login: true,
    aliases: ["login"],
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      const qdisc = () =>
        sh(
          g,
          `dev="$(ip route show default | awk 'NR == 1 { print $5 }')"; echo "$dev"; tc qdisc show dev "$dev" root`,
        );
      const first = await qdisc();
      log(first.replace("\n", ": "));
      assert.match(first, /qdisc netem .*delay 50ms loss 1.5%/, "netem on the default interface");
      await sleep(15_000);
      assert.match(await qdisc(), /qdisc netem .*delay 50ms/, "netem is still there 15s later");
    },
  },
  {
    workload: "chaos-process",
    params: { signal: "SIGTERM", interval: "2" },
    check: async ({ vm, log }) => {
      const g = vm[""] as Vm;
      // Sacrificial processes above the default min-pid (1000), and an excluded one (bash).
      const started = await sh(
        g,
        `if [ "$(cat /proc/sys/kernel/ns_last_pid)" -lt 1100 ]; then echo 1100 > /proc/sys/kernel/ns_last_pid; fi
         for _ in $(seq 1 20); do setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo "$!"; done
         setsid bash -c 'while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & echo "$!"`,
      );
      const pids = started.split("\n").map(Number);
      const excluded = pids.pop() as number;
      const killed = await until("a sacrificial process signalled", 90, async () => {
        const alive = (await sh(g, `for p in ${pids.join(" ")}; do [ -e /proc/$p ] && echo $p; done; true`))
          .split("\n")
          .filter(Boolean)
          .map(Number);
        const gone = pids.filter((p) => !alive.includes(p));
        return gone.length ? gone : undefined;
      });
      log(`sacrificial processes terminated: ${killed.join(", ")}`);
      await sleep(6000);
      assert.equal((await g.agent.sh(`[ -e /proc/${excluded} ]`)).code, 0, "the excluded bash process lives");
      const lines = (await journal(g, "virtwork-chaos-process.service"))
        .split("\n")
        .filter((l) => l.includes("Sending SIG"));
      assert.ok(lines.length > 0, "the journal shows signals being sent");
      for (const line of lines) {
        const m = /Sending SIG\w+ to PID (\d+): *\d+ +(\S+)/.exec(line);
        if (!m) continue;
        assert.ok(Number(m[1]) >= 1000, `min-pid respected: ${line}`);
        assert.doesNotMatch(m[2] ?? "", EXCLUDE, `never an excluded process: ${line}`);
      }
      assert.ok(
        lines.some((l) => killed.some((p) => l.includes(`to PID ${p}:`))),
        "the journal names a terminated sacrificial process",
      );
    },
  },
  {
    workload: "network",
    params: { "parallel-streams": "2", "test-duration": "5" },
    aliases: ["pairs"],
    pairs: {
      // iperf3 -s: "Accepted connection from 10.77.10.2, port 41234"
      peers:
        "journalctl -u virtwork-network.service -o cat --no-pager | sed -nE 's/.*Accepted connection from ([0-9.]+), port.*/\\1/p' | sort -u",
      probePort: 9,
    },
    check: async (ctx) => {
      for (const [k, client] of clientsOf(ctx).entries()) {
        const text = await until(`client ${k}: an iperf3 round`, 120, async () => {
          const j = await journal(client, ctx.unit.client ?? "");
          return /iperf Done/.test(j) ? j : undefined;
        });
        const sum = text.split("\n").filter((l) => /SUM.*(sender|receiver)/.test(l));
        ctx.log(`client ${k}: ${sum.slice(0, 2).join(" | ").replace(/\s+/g, " ")}`);
        assert.ok(sum.length > 0, `client ${k}: iperf3 reports bidirectional totals`);
      }
    },
  },
  {
    workload: "tps",
    // Short cycles (2 rounds of 3 s, then 10 s): the check sees a second cycle start in the
    // same unit run, so the client loops instead of exiting into a 30 s restart.
    params: { "file-size": "1M", iterations: "2", duration: "3" },
    aliases: ["pairs"],
    pairs: {
      // python3 -m http.server's access log: '10.77.10.2 - - [date] "GET /testfile HTTP/1.1" 200 -'
      peers:
        "journalctl -u virtwork-tps-http.service -o cat --no-pager | sed -nE 's/^([0-9.]+) - - \\[.*/\\1/p' | sort -u",
      probePort: 9,
    },
    check: async (ctx) => {
      for (const [k, client] of clientsOf(ctx).entries()) {
        const text = await until(`client ${k}: a second TPS cycle`, 180, async () => {
          const j = await journal(client, ctx.unit.client ?? "");
          return /^TPS cycle 2$/m.test(j) ? j : undefined;
        });
        assert.match(text, /TCP_RR rounds skipped, HTTP rounds only/, "no netperf on Debian: HTTP only");
        assert.match(text, /^TPS cycle 1 complete$/m, `client ${k}: the first cycle ended`);
        const round = /Round 1\/2 completed: (\d+) transfers/.exec(text);
        ctx.log(`client ${k}: ${round?.[0] ?? ""}`);
        assert.ok(Number(round?.[1]) > 0, `client ${k}: files were transferred`);
      }
    },
  },
];
