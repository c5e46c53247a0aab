/**
 * chaos-network for real, inside a network namespace with a veth default route: the unit's
 * start/stop scripts add and remove the root qdisc on the right interface, and under the
 * unit's own Type/RemainAfterExit the qdisc stays while the unit is active.
 *
 * Where the kernel has no sch_netem (this is probed), the real-netem test is skipped with
 * that reason and the others run with /usr/sbin/tc bound to a shim: the real tc still parses
 * every netem option (it does so before asking the kernel), and the shim then installs an
 * htb root qdisc in netem's place, so presence and removal are still real kernel state.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import type { GuestFile } from "../../../src/cloudinit/guest-config.ts";
import { render } from "./cases.ts";
import { q, sandbox, writeStubs } from "./sandbox.ts";
import { needRoot, needTools, netemSupport, runSync, tempDir, unitValues, which } from "./tools.ts";

const START = "/usr/local/bin/virtwork-chaos-network-start.sh";
const STOP = "/usr/local/bin/virtwork-chaos-network-stop.sh";
const skip = needTools("ip", "tc", "unshare") || needRoot("network namespaces");
const netem = skip ? { ok: false as const, reason: skip } : netemSupport();

/** A namespace with eth0 (default route) and eth1, both veth ends kept up. */
function createNetns(name: string): void {
  const cmds = [
    ["netns", "add", name],
    ["-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"],
    ["-n", name, "link", "add", "eth1", "type", "veth", "peer", "name", "peer1"],
    ["-n", name, "addr", "add", "10.77.0.2/24", "dev", "eth0"],
    ["-n", name, "addr", "add", "10.78.0.2/24", "dev", "eth1"],
    ...["eth0", "peer0", "eth1", "peer1"].map((d) => ["-n", name, "link", "set", d, "up"]),
    ["-n", name, "route", "add", "default", "via", "10.77.0.1", "dev", "eth0"],
  ];
  for (const args of cmds) {
    const r = runSync("ip", args);
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  }
}

function rootQdisc(ns: string, dev: string): string {
  const r = runSync("ip", ["netns", "exec", ns, "tc", "qdisc", "show", "dev", dev, "root"]);
  return r.stdout.trim();
}

for (const mode of ["real netem", "emulated netem"] as const) {
  const modeSkip =
    skip ||
    (mode === "real netem"
      ? !netem.ok && `${netem.reason}: real netem cannot run here (the emulated-netem tests still do)`
      : netem.ok && "the kernel has sch_netem: the real-netem tests cover this");
  describe(`chaos-network in a network namespace (${mode})`, { skip: modeSkip }, () => {
    const dir = tempDir("chaos-network");
    const ns = `virtwork-cn-${process.pid}`;
    let files: GuestFile[] = [];
    let unit = "";
    const binds: [string, string][] = [];
    /** The qdisc kind that stands for netem. */
    const kind = mode === "real netem" ? "netem" : "htb";

    before(() => {
      createNetns(ns);
      const [role] = render("chaos-network", {});
      files = role?.guest.files ?? [];
      unit = files.find((f) => f.path.endsWith(".service"))?.content ?? "";
      if (mode === "emulated netem") {
        const realTc = join(dir.path, "real-tc");
        copyFileSync(which("tc") ?? "/usr/sbin/tc", realTc);
        runSync("chmod", ["0755", realTc]);
        writeStubs(join(dir.path, "shim"), {
          tc: `echo "$*" >> ${q(join(dir.path, "tc.log"))}
args=("$@")
for i in "\${!args[@]}"; do
  if [ "\${args[$i]}" = netem ]; then
    out=$(${q(realTc)} "$@" 2>&1) && exit 0
    if ! grep -q "Specified qdisc kind is unknown" <<<"$out"; then echo "$out" >&2; exit 2; fi
    # Stand-in: the same root, as htb (replace -> delete, then add: htb has no "change").
    for j in "\${!args[@]}"; do [ "\${args[$j]}" = dev ] && dev="\${args[$((j + 1))]}"; done
    ${q(realTc)} qdisc del dev "$dev" root 2>/dev/null
    exec ${q(realTc)} qdisc add dev "$dev" root htb
  fi
done
exec ${q(realTc)} "$@"`,
        });
        binds.push([join(dir.path, "shim/tc"), "/usr/sbin/tc"]);
      }
    });
    beforeEach(() => {
      for (const dev of ["eth0", "eth1"])
        runSync("ip", ["netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"]);
    });
    after(() => {
      runSync("ip", ["netns", "del", ns]);
      dir.remove();
    });

    const exec = (command: string, env: Record<string, string> = {}) =>
      sandbox({ dir: dir.path, netns: ns, files, binds, env }, `${command}; echo "exit=$?"`);

    /**
     * `systemctl start` / `stop` as systemd.service(5) describes them: ExecStart runs; a
     * oneshot with RemainAfterExit=yes stays active after it exits, any other service whose
     * main process has exited is deactivated at once, which runs ExecStop.
     */
    async function startUnit(): Promise<{ active: boolean; output: string }> {
      const type = unitValues(unit, "Service", "Type")[0] ?? "simple";
      const remain = /^(yes|true|on|1)$/.test(unitValues(unit, "Service", "RemainAfterExit")[0] ?? "no");
      const start = await exec(unitValues(unit, "Service", "ExecStart")[0] ?? "false");
      assert.match(start.stdout, /exit=0/, `ExecStart failed\n${start.stdout}${start.stderr}`);
      if (type === "oneshot" && remain) return { active: true, output: start.stdout };
      const stop = await exec(unitValues(unit, "Service", "ExecStop")[0] ?? "true");
      return { active: false, output: start.stdout + stop.stdout };
    }
    async function stopUnit(): Promise<string> {
      const stop = await exec(unitValues(unit, "Service", "ExecStop")[0] ?? "true");
      assert.match(stop.stdout, /exit=0/, `ExecStop failed\n${stop.stdout}${stop.stderr}`);
      return stop.stdout;
    }

    test("the unit runs the start and stop scripts", () => {
      assert.deepEqual(unitValues(unit, "Service", "ExecStart"), [START]);
      assert.deepEqual(unitValues(unit, "Service", "ExecStop"), [STOP]);
    });

    test("start: the qdisc is on the default-route interface while the unit is active; stop: gone", async () => {
      const started = await startUnit();
      assert.ok(started.active, `the unit must stay active after ExecStart exits\n${started.output}`);
      const qdisc = rootQdisc(ns, "eth0");
      assert.match(qdisc, new RegExp(`^qdisc ${kind} `), `eth0 root qdisc while active: ${qdisc}`);
      if (mode === "real netem") assert.match(qdisc, /delay 100ms loss 5%/);
      else
        assert.match(
          readFileSync(join(dir.path, "tc.log"), "utf8"),
          /replace dev eth0 root netem delay 100ms loss 5.0% limit 1000/,
        );
      assert.doesNotMatch(rootQdisc(ns, "eth1"), new RegExp(`qdisc ${kind} `), "eth1 untouched");
      await stopUnit();
      assert.doesNotMatch(rootQdisc(ns, "eth0"), new RegExp(`qdisc ${kind} `), "removed after stop");
    });

    test("a restart replaces the qdisc instead of failing; a second stop still exits 0", async () => {
      assert.match((await exec(START)).stdout, /exit=0/);
      assert.match((await exec(START)).stdout, /exit=0/);
      assert.match(rootQdisc(ns, "eth0"), new RegExp(`^qdisc ${kind} `));
      assert.match((await exec(STOP)).stdout, /exit=0/);
      assert.match((await exec(STOP)).stdout, /exit=0/);
      assert.doesNotMatch(rootQdisc(ns, "eth0"), new RegExp(`qdisc ${kind} `));
    });

    test("CHAOS_DEVICE picks the interface", async () => {
      const start = await exec(START, { CHAOS_DEVICE: "eth1" });
      assert.match(start.stdout, /netem active on eth1/);
      assert.match(rootQdisc(ns, "eth1"), new RegExp(`^qdisc ${kind} `));
      assert.doesNotMatch(rootQdisc(ns, "eth0"), new RegExp(`qdisc ${kind} `));
      assert.match((await exec(STOP, { CHAOS_DEVICE: "eth1" })).stdout, /netem removed from eth1/);
      assert.doesNotMatch(rootQdisc(ns, "eth1"), new RegExp(`qdisc ${kind} `));
    });

    test("the stand-in still has the real tc parse netem's options", {
      skip: mode === "real netem",
    }, async () => {
      const r = await exec("/usr/sbin/tc qdisc replace dev eth0 root netem delay abc");
      assert.doesNotMatch(r.stdout, /exit=0/);
      assert.match(r.stderr, /Illegal "latency"/);
      assert.doesNotMatch(rootQdisc(ns, "eth0"), /qdisc htb /);
    });

    test("without a default route the start script fails with a message", async () => {
      runSync("ip", ["-n", ns, "route", "del", "default"]);
      try {
        const r = await exec(START);
        assert.match(r.stdout, /exit=1/);
        assert.match(r.stderr, /no default route interface found/);
      } finally {
        runSync("ip", ["-n", ns, "route", "add", "default", "via", "10.77.0.1", "dev", "eth0"]);
      }
    });
  });
}
