/**
 * Every built-in workload in a booted Debian guest (design §4.9, §5): virtwork's user-data
 * for guest-os debian on a NoCloud seed, data disks with the workload's serials, and checks
 * from outside through the guest agent — cloud-init finished without errors, the workload
 * unit is active and stays active, and the workload's own signal is there.
 *
 * Tolerant of a loaded machine: boot and cloud-init are awaited by progress (progress.ts: the
 * console grows, the agent answers, cloud-init's stage and logs move) and fail only on a stall;
 * fixed waits are scaled by the host's pace; guests are admitted by a gate that follows the
 * cores and the load (pace.ts). Each case logs how long each stage took.
 *
 * VIRTWORK_GUEST_CASES=cpu,database runs a subset; VIRTWORK_GUEST_KEEP=1 keeps the VM
 * directories (console logs, seeds) under the temp dir; VIRTWORK_GUEST_PARALLEL fixes how many
 * guests run at once (default: from cores and load). Under CI=true a machine that cannot boot
 * guests fails the suite instead of skipping it.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BUILTIN_WORKLOADS } from "../../../src/workloads/registry.ts";
import { appliesTo, formatValue } from "../../../src/workloads/signals.ts";
import { CASES, type Case, type Ctx, clientsOf, link, type PairProof, render, sh, until } from "./cases.ts";
import { type Counters, counterOf, readCounters } from "./counters.ts";
import { checkLogin } from "./login.ts";
import { BootGate, scale, setAccelSlow } from "./pace.ts";
import { untilProgress } from "./progress.ts";
import {
  accel,
  cannotBoot,
  freePort,
  type GuestImage,
  guestImage,
  type Nic,
  startVm,
  type Vm,
  type VmSpec,
} from "./qemu.ts";
import { checkReadinessProbe, plannedProbe } from "./readiness.ts";

const cannot = cannotBoot();
// In CI a machine that cannot boot guests is a failure, never a skip.
const ci = process.env.CI === "true";
const skip = cannot;
const only = process.env.VIRTWORK_GUEST_CASES?.split(",").filter(Boolean);
const keep = process.env.VIRTWORK_GUEST_KEEP === "1";
const gate = new BootGate();
/** Fails a progress wait after this long in any case. */
const HARD_SECONDS = 60 * 60;

/** Server/client workloads boot `--vm-count 2`: two pairs prove client i talks to server i only. */
const PAIRS = 2;
const USER_MAC = "52:54:00:12:34:56";

/** NoCloud network-config v2: one static address per NIC (matched by MAC), maybe a gateway on the first. */
function networkConfig(ends: { mac: string; ip: string }[], gateway?: string): string {
  return `version: 2\nethernets:\n${ends
    .map(
      (e, i) =>
        `  link${i}:\n    match:\n      macaddress: "${e.mac}"\n    addresses: [${e.ip}/24]\n${
          i === 0 && gateway ? `    gateway4: ${gateway}\n` : ""
        }`,
    )
    .join("")}`;
}

/**
 * The cluster's DNS stand-in: the "platform" (vendor-data, not virtwork's user-data) adds
 * /etc/hosts entries so each server's per-VM Service name resolves to that server's end of
 * this client's link.
 */
function hostsVendorData(entries: [host: string, ip: string][]): string {
  return `#cloud-config\nbootcmd:\n${entries
    .map(
      ([host, ip]) =>
        `  - [sh, -c, "grep -q ' ${host}$' /etc/hosts || echo '${ip} ${host}' >> /etc/hosts"]\n`,
    )
    .join("")}`;
}

/**
 * Waits until cloud-init has written result.json, by progress: its stage, per-stage start and
 * finish times (status.json) and log sizes are the sign, logged as stages advance.
 */
async function cloudInitDone(vm: Vm, log: (m: string) => void, t0: number): Promise<void> {
  const signs = new Map<Vm, string>();
  let lastStage = "";
  const result = await untilProgress({
    what: `${vm.spec.name}: cloud-init to finish`,
    vms: [vm],
    stallSeconds: Math.round(75 * scale()),
    hardSeconds: HARD_SECONDS,
    poll: async () => {
      const r = await vm.agent.sh(
        `if [ -f /run/cloud-init/result.json ]; then echo RESULT; cat /run/cloud-init/result.json; else
           echo WAIT; tr -d ' \\n' </run/cloud-init/status.json 2>/dev/null | grep -o '"\\(stage\\|start\\|finished\\)":[^,}]*' ;
           stat -c '%n=%s' /var/log/cloud-init.log /var/log/cloud-init-output.log 2>/dev/null; fi`,
      );
      const [head, ...rest] = r.stdout.split("\n");
      if (head === "RESULT") return rest.join("\n");
      signs.set(vm, rest.join(" ").trim());
      return undefined;
    },
    sign: async (v) => signs.get(v) ?? "",
    onSign: (v, sign) => {
      const stage = /"stage":"?([^",\s]*)/.exec(sign)?.[1];
      if (stage && stage !== "null" && stage !== lastStage) {
        lastStage = stage;
        log(`${v.spec.name}: cloud-init stage ${stage} at +${((Date.now() - t0) / 1000).toFixed(0)}s`);
      }
    },
  });
  const errors = (JSON.parse(result) as { v1: { errors: string[] } }).v1.errors;
  const status = await vm.agent.sh("cloud-init status --long", 120_000);
  assert.deepEqual(errors, [], `cloud-init finished without errors:\n${status.stdout}`);
  assert.match(status.stdout, /status: done/);
}

async function unitState(vm: Vm, unit: string): Promise<Record<string, string>> {
  const out = await sh(vm, `systemctl show -p ActiveState,SubState,NRestarts,Type ${unit}`);
  return Object.fromEntries(out.split("\n").map((l) => l.split("=", 2) as [string, string]));
}

async function diagnose(vms: Vm[], units: Record<string, string>): Promise<string> {
  const parts: string[] = [];
  for (const vm of vms) {
    const role = vm.spec.name;
    parts.push(`--- ${role}: console (tail) ---\n${vm.consoleTail(40)}`);
    if (!vm.running) continue;
    const unit = Object.values(units)[0] ?? "";
    const r = await vm.agent
      .sh(
        `cloud-init status --long; tail -n 30 /var/log/cloud-init-output.log; systemctl status --no-pager -l ${Object.values(units).join(" ")} ${unit}; journalctl -u ${Object.values(units).join(" -u ")} -o cat --no-pager | tail -n 40`,
        20_000,
      )
      .catch((e: Error) => ({ stdout: `(agent: ${e.message})`, stderr: "" }));
    parts.push(`--- ${role}: guest ---\n${r.stdout}${r.stderr}`);
  }
  return parts.join("\n");
}

/** Stage timings of one case, logged as one line at the end (also when it fails). */
class Stages {
  private readonly t0 = Date.now();
  private mark = this.t0;
  private readonly done: { name: string; ms: number }[] = [];
  current = "start";

  begin(name: string): void {
    this.current = name;
    this.mark = Date.now();
  }

  end(): void {
    this.done.push({ name: this.current, ms: Date.now() - this.mark });
  }

  get elapsed(): number {
    return Date.now() - this.t0;
  }

  summary(outcome: string): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(0)}s`;
    const failed = outcome === "passed" ? [] : [`${this.current} FAILED after ${s(Date.now() - this.mark)}`];
    const done = this.done.map((d) => `${d.name} ${s(d.ms)}`);
    return `stages: ${[...done, ...failed].join(", ")}; total ${s(this.elapsed)} (${outcome})`;
  }

  /** appends the stages to make test's budget table (scripts/test-budget.mjs), when it asks */
  record(name: string): void {
    const dir = process.env.VIRTWORK_TEST_TIMES;
    if (!dir) return;
    const rows = this.done.map((d) => `${JSON.stringify({ case: name, stage: d.name, ms: d.ms })}\n`);
    appendFileSync(join(dir, "guest-test.jsonl"), rows.join(""));
  }
}

/** One booted guest of a case: its key in Ctx.vm, its role ("" for single-role), its unit. */
interface Guest {
  key: string;
  role: string;
  vm: Vm;
  unit: string;
}

async function runCase(c: Case, image: GuestImage, log: (m: string) => void): Promise<void> {
  const slow = accel().slow;
  const pairs = c.pairs ? PAIRS : 0;
  const rendered = render(c.workload, c.params, {
    ...(pairs ? { vmCount: pairs } : {}),
    ...(c.login ? { login: true } : {}),
  });
  const stages = new Stages();
  stages.begin("slot");
  const slot = await gate.acquire(rendered.vms.length);
  stages.end();
  log(`${c.workload}: admitted after ${(stages.elapsed / 1000).toFixed(0)}s: ${slot.why}`);
  const dir = mkdtempSync(join(tmpdir(), `virtwork-boot-${c.workload}-`));
  // One point-to-point link per server/client: server s listens on ports[s][k], client k connects.
  const ports = new Map<string, number>();
  for (let s = 0; s < pairs; s++) for (let k = 0; k < pairs; k++) ports.set(`${s}-${k}`, await freePort());
  const guests: Guest[] = [];
  const vms: Vm[] = [];
  const units: Record<string, string> = {};
  const t0 = Date.now();
  let outcome = "failed";
  try {
    stages.begin("boot");
    // Servers first: their socket links listen, the clients connect.
    const ordered = [...rendered.vms].sort(
      (a, b) => Number(b.role === "server") - Number(a.role === "server") || a.index - b.index,
    );
    for (const r of ordered) {
      const role = r.role ?? "";
      const key = role ? `${role}-${r.index}` : "";
      const spec: VmSpec = {
        name: role ? `${c.workload}-${key}` : c.workload,
        dir: join(dir, key || "vm"),
        image,
        userData: r.userData,
        dataDisks: r.serials.map((serial) => ({ serial, sizeGiB: c.dataDiskGiB ?? 2 })),
        memMiB: c.memMiB ?? 1024,
        cpus: 1,
        nic: { kind: "user", mac: USER_MAC },
        // Like a pod network: an address and a default route (chaos-network needs one).
        networkConfig: networkConfig([{ mac: USER_MAC, ip: "10.0.2.15" }], "10.0.2.2"),
      };
      if (pairs) {
        // Every server is linked to every client and every client resolves every server's
        // name, so only the name in the client's user-data decides where its traffic goes.
        const peers = [...Array(pairs).keys()];
        const ends = peers.map((p) =>
          role === "server" ? link(r.index, p, pairs).server : link(p, r.index, pairs).client,
        );
        const nics: Nic[] = ends.map((e, p) => ({
          kind: "socket",
          mode: role === "server" ? "listen" : "connect",
          port: ports.get(role === "server" ? `${r.index}-${p}` : `${p}-${r.index}`) ?? 0,
          mac: e.mac,
        }));
        spec.nic = nics[0] as Nic;
        spec.extraNics = nics.slice(1);
        spec.networkConfig = networkConfig(ends);
        if (role === "client")
          spec.vendorData = hostsVendorData(
            rendered.serverHosts.map((h, s): [string, string] => [h, link(s, r.index, pairs).server.ip]),
          );
      }
      let vm: Vm | undefined;
      for (let attempt = 0; !vm; attempt++) {
        try {
          vm = await startVm(spec);
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(1000);
        }
      }
      vms.push(vm);
      guests.push({ key, role, vm, unit: r.unit });
      units[role] = r.unit;
    }
    // Boot: until every agent answers, for as long as the consoles keep growing.
    await untilProgress({
      what: `${c.workload}: guest agents to answer`,
      vms,
      stallSeconds: Math.round(75 * scale()),
      hardSeconds: HARD_SECONDS,
      poll: async () => {
        for (const vm of vms) if (!vm.agent.answered) await vm.agent.sync(10_000);
        return true;
      },
    });
    stages.end();
    log(`${c.workload}: ${vms.length} agent(s) up after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    stages.begin("cloud-init");
    for (const vm of vms) await cloudInitDone(vm, log, t0);
    stages.end();
    log(`${c.workload}: cloud-init done after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    stages.begin("unit");
    for (const g of guests.filter((x) => x.role === "client")) {
      const k = Number(g.key.split("-")[1]);
      for (const [s, host] of rendered.serverHosts.entries()) {
        const resolved = await sh(g.vm, `getent hosts ${host}`);
        const ip = link(s, k, pairs).server.ip;
        assert.match(
          resolved,
          new RegExp(`^${ip.replaceAll(".", "\\.")}\\s`),
          `client ${k}: ${host} -> server ${s}`,
        );
      }
    }
    const before: Record<string, Record<string, string>> = {};
    for (const g of guests) {
      // runcmd started it with enable --now: once cloud-init is done it is active or on its
      // way (activating); inactive or failed is a failure now, not after a timeout.
      before[g.key] = await until(`${g.vm.spec.name}: ${g.unit} active`, 120, async () => {
        const s = await unitState(g.vm, g.unit);
        if (s.ActiveState === "inactive" || s.ActiveState === "failed") {
          return { ...s, gaveUp: "yes" };
        }
        return s.ActiveState === "active" ? s : undefined;
      });
      assert.equal(
        before[g.key]?.ActiveState,
        "active",
        `${g.vm.spec.name}: ${g.unit} is active (${before[g.key]?.SubState})`,
      );
    }
    stages.end();
    stages.begin("check");
    const byKey = Object.fromEntries(guests.map((g) => [g.key, g.vm]));
    const ctx: Ctx = { vm: byKey, unit: units, pairs, slow, log: (m) => log(`${c.workload}: ${m}`) };
    // Before the counters' window: this probe itself moves the NIC counters.
    if (c.pairs) await reachesBothServers(c.pairs, ctx);
    // The counters' first reading: the workload's check (reads through the agent) runs inside
    // their window instead of before it (countersMove).
    const first = new Map<string, Counters>();
    for (const g of guests) first.set(g.key, await readCounters(g.vm));
    const firstAt = Date.now();
    await c.check(ctx);
    if (c.pairs) await eachServerItsOwnClient(c.pairs, ctx, rendered.serverHosts.length);
    for (const g of guests) {
      const after = await unitState(g.vm, g.unit);
      assert.equal(
        after.ActiveState,
        "active",
        `${g.vm.spec.name}: ${g.unit} stays active (${after.SubState})`,
      );
      assert.equal(after.NRestarts, before[g.key]?.NRestarts, `${g.vm.spec.name}: ${g.unit} did not restart`);
    }
    stages.end();
    stages.begin("counters");
    await countersMove(c.workload, guests, first, firstAt, ctx.log);
    stages.end();
    stages.begin("readiness probe");
    for (const g of guests) {
      const command = plannedProbe(c.workload, c.params, g.role || undefined);
      await checkReadinessProbe(g.vm, command, g.unit, (m) =>
        log(`${c.workload}: ${g.key || g.vm.spec.name}: ${m}`),
      );
    }
    stages.end();
    if (c.login) {
      // After the counters' window: su and ssh use the guest's CPU too.
      stages.begin("login");
      await checkLogin(byKey[""] as Vm, rendered.hash ?? "", until, ctx.log);
      stages.end();
    }
    outcome = "passed";
    log(`${c.workload}: passed after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  } catch (err) {
    const details = await diagnose(vms, units).catch(() => "");
    // A new error: the reporter prints the stack, which holds the original message only.
    throw new Error(`${(err as Error).message}\n${stages.summary(outcome)}\n${details}`, { cause: err });
  } finally {
    log(`${c.workload}: ${stages.summary(outcome)}`);
    stages.record(c.workload);
    await Promise.all(vms.map((v) => v.stop()));
    slot.release();
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

/** Each client reaches every server (a closed port answers "connection refused"): the choice is the client's, by name. */
async function reachesBothServers(p: PairProof, ctx: Ctx): Promise<void> {
  for (const [k, client] of clientsOf(ctx).entries()) {
    for (let s = 0; s < ctx.pairs; s++) {
      const ip = link(s, k, ctx.pairs).server.ip;
      const r = await client.agent.sh(
        `timeout 10 bash -c ': </dev/tcp/${ip}/${p.probePort}' 2>&1; echo "exit=$?"`,
      );
      assert.match(r.stdout, /Connection refused/, `client ${k} reaches server ${s} (${ip}): ${r.stdout}`);
    }
  }
}

/** After the clients' rounds (the check): each server's journal names exactly one peer, its own client. */
async function eachServerItsOwnClient(p: PairProof, ctx: Ctx, servers: number): Promise<void> {
  for (let s = 0; s < servers; s++) {
    const server = ctx.vm[`server-${s}`] as Vm;
    const peers = new Set((await sh(server, p.peers)).split("\n").filter(Boolean));
    ctx.log(`server ${s} was reached by ${[...peers].join(", ") || "nobody"}`);
    assert.deepEqual([...peers], [link(s, s, ctx.pairs).client.ip], `server ${s} talks to client ${s} only`);
  }
}

/**
 * The counters KubeVirt's metrics come from (counters.ts: QEMU's block statistics over QMP,
 * the vCPU threads' CPU time, qemu's RSS, the guest NIC's bytes), read before the check and
 * again at least 20 s × pace (at most 60 s) later: each signal the workload declares for
 * `virtwork verify` must move its counter. Logs before → after and the rate next to verify's
 * threshold.
 */
async function countersMove(
  workload: string,
  guests: Guest[],
  first: Map<string, Counters>,
  firstAt: number,
  log: (m: string) => void,
): Promise<void> {
  const signals = BUILTIN_WORKLOADS.find((w) => w.name === workload)?.signals ?? [];
  assert.ok(signals.length, `${workload} declares signals`);
  // long enough for each workload to go through a loop (fio, pgbench, iperf3 pause ~10 s)
  const windowMs = Math.min(60, Math.round(20 * scale())) * 1000;
  await sleep(Math.max(0, firstAt + windowMs - Date.now()));
  for (const g of guests) {
    const a = first.get(g.key) as Counters;
    const b = await readCounters(g.vm);
    const seconds = (b.at - a.at) / 1000;
    for (const s of signals.filter((x) => appliesTo(x, g.role || undefined))) {
      const counter = counterOf(s);
      assert.ok(counter, `${workload}/${s.name}: a counter for ${s.metric}`);
      const who = `${g.key || workload} ${s.name} (${s.metric})`;
      if (counter.gauge) {
        const share = b.residentBytes / b.guestBytes;
        log(
          `${who}: qemu RSS ${formatValue(a.residentBytes, "bytes")} → ${formatValue(b.residentBytes, "bytes")} = ${formatValue(share, "ratio")} of guest memory (verify: ${formatValue(s.min, s.unit)})`,
        );
        assert.ok(share > 0.25, `${who}: qemu holds ${formatValue(share, "ratio")} of guest memory`);
        continue;
      }
      const delta = b[counter.key] - a[counter.key];
      const rate = delta / seconds;
      log(
        `${who}: ${counter.key} ${a[counter.key]} → ${b[counter.key]} in ${seconds.toFixed(0)}s = ${formatValue(rate, s.unit)} (verify: ≥ ${formatValue(s.min, s.unit)})`,
      );
      assert.ok(delta > 0, `${who}: ${counter.key} did not move (${a[counter.key]} → ${b[counter.key]})`);
    }
  }
}

if (ci && cannot) {
  test("this machine can boot guests (CI=true: no skipping)", () => {
    assert.fail(`CI=true and this machine cannot boot guests: ${cannot}`);
  });
}

describe("workloads in a booted Debian guest", { skip, concurrency: true }, () => {
  let image: GuestImage;
  before(() => {
    const t = Date.now();
    image = guestImage();
    const a = accel(image);
    setAccelSlow(a.slow);
    console.log(
      `# guest disk ready in ${((Date.now() - t) / 1000).toFixed(0)}s; accel ${a.kind} (-cpu ${a.cpu}; ${a.how ?? ""}); pace now ×${scale().toFixed(1)}`,
    );
  });

  // The gate admits first come, first served, and a four-guest case only when nothing else
  // runs: the pairs go first (no drain before them), then the longest case (database).
  const order = (c: Case) => (c.pairs ? 0 : c.workload === "database" ? 1 : 2);
  for (const c of [...CASES].sort((a, b) => order(a) - order(b))) {
    if (only && !only.includes(c.workload) && !c.aliases?.some((a) => only.includes(a))) continue;
    const name = c.pairs
      ? `${c.workload}: ${PAIRS} pairs, client i talks to server i only`
      : c.login
        ? `${c.workload} + login: shadow holds virtwork's hash; su (PAM) and ssh (sshd) accept the password`
        : c.workload;
    // The case's own waits fail on a stall; this is only the backstop.
    test(name, { timeout: 2 * HARD_SECONDS * 1000 }, (t) =>
      runCase(c, image, (m) => {
        t.diagnostic(m);
        console.log(`# ${m}`);
      }),
    );
  }
});
