/**
 * chaos-process for real, in a private PID namespace: processes named like the excluded
 * system processes (copies of `sleep`, so ps shows those names, truncated to 15 characters
 * as the kernel does) are never signalled; ordinary workload processes are.
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { EXCLUDED_PROCESSES } from "../../../src/workloads/builtin/chaos-process.ts";
import { render } from "./cases.ts";
import { q } from "./sandbox.ts";
import { needRoot, needTools, run, tempDir, which } from "./tools.ts";

const SCRIPT = "/usr/local/bin/chaos-process.sh";
const skip = needTools("ps", "unshare") || needRoot("a private PID namespace (unshare --pid)");

/** Names that must survive: one per exclusion pattern, full names the kernel truncates. */
const PROTECTED = [
  "systemd",
  "systemd-journald",
  "systemd-udevd",
  "(sd-pam)",
  "sshd",
  "sshd-session",
  "dbus-daemon",
  "dbus-broker-launch",
  "dbus",
  "agetty",
  "auditd",
  "rsyslogd",
  "chronyd",
  "NetworkManager",
  "bash",
  "sh",
  "cloud-init",
  "qemu-ga",
  "virtwork-tps-server.sh",
  "chaos-process-helper",
  "ps",
];
/** What a guest's workloads look like: these may be signalled. */
const VICTIMS = ["stress-ng", "fio", "pgbench", "iperf3", "netserver", "python3", "sshdx", "my-systemd"];

describe("chaos-process never targets excluded processes", { skip }, () => {
  const dir = tempDir("chaos-process");
  after(() => dir.remove());

  test("every exclusion pattern has a protected process in this test", () => {
    for (const pattern of EXCLUDED_PROCESSES) {
      const re = new RegExp(`^(${pattern})$`);
      assert.ok(
        PROTECTED.some((n) => re.test(n.slice(0, 15))),
        `no protected process for ${pattern}`,
      );
    }
    for (const v of VICTIMS) {
      assert.ok(!EXCLUDED_PROCESSES.some((p) => new RegExp(`^(${p})$`).test(v)), `${v} is not excluded`);
    }
  });

  test("in a PID namespace: only workload processes are signalled, all of them eventually", {
    timeout: 60_000,
  }, async () => {
    const [role] = render("chaos-process", { signal: "SIGTERM", interval: "1", "min-pid": "2" });
    const script = role?.guest.files.find((f) => f.path === SCRIPT);
    assert.ok(script);
    const bin = join(dir.path, "bin");
    mkdirSync(bin, { recursive: true });
    const sleep = which("sleep") ?? "/bin/sleep";
    for (const name of [...PROTECTED, ...VICTIMS]) copyFileSync(sleep, join(bin, name));
    const chaos = join(bin, "chaos-process.sh");
    writeFileSync(chaos, script.content);
    for (const name of [...PROTECTED, ...VICTIMS]) chmodSync(join(bin, name), 0o755);
    chmodSync(chaos, 0o755);

    // The interval comes from the unit's Environment; 0.2 s keeps the test short.
    const r = await run(
      "unshare",
      [
        "--pid",
        "--fork",
        "--mount-proc",
        "bash",
        "-c",
        `cd ${q(bin)}
for n in ${PROTECTED.map(q).join(" ")}; do ./"$n" 300 & done
victims=()
for n in ${VICTIMS.map(q).join(" ")}; do ./"$n" 300 & victims+=("$!"); done
CHAOS_SIGNAL=SIGTERM CHAOS_INTERVAL=0.2 CHAOS_MIN_PID=2 ./chaos-process.sh > ${q(join(dir.path, "log"))} 2>&1 &
chaos=$!
# PID 1 must reap, as systemd does, or terminated victims stay as zombies (and stay
# candidates). It stops when every victim is gone, or after 40 s on a slow machine
# (read -t and kill -0 are builtins, so nothing else shows up in ps).
( read -rt 40 <> <(:) || true ) &
timer=$!
while :; do
  wait -n -p done_pid
  [ "\${done_pid:-}" = "$timer" ] && break
  left=0
  for p in "\${victims[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
  [ "$left" = 0 ] && break
done
kill "$chaos" "$timer" 2>/dev/null || true
echo "--- alive"
ps -eo pid=,comm=
echo "--- log"
cat ${q(join(dir.path, "log"))}`,
      ],
      { timeoutMs: 55_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const [alivePart = "", log = ""] = r.stdout.split("--- log");
    const alive = new Set(
      alivePart
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[1])
        .filter(Boolean),
    );
    const targeted = [...log.matchAll(/Sending SIGTERM to PID \d+: +\d+ (\S+)/g)].map((m) => m[1] ?? "");
    assert.ok(targeted.length >= VICTIMS.length, `it sent signals\n${log}`);
    // Every signal goes to a process that exists (not, say, the script's own ps listing).
    const vanished = [...log.matchAll(/Sending SIGTERM to PID (\d+): *$/gm)].map((m) => m[1]);
    assert.deepEqual(vanished, [], `signals sent to processes that were gone\n${log}`);
    const protectedComms = PROTECTED.map((n) => n.slice(0, 15));
    for (const comm of targeted) {
      assert.ok(!protectedComms.includes(comm), `signalled protected process ${comm}\n${log}`);
    }
    for (const comm of protectedComms) assert.ok(alive.has(comm), `${comm} still runs`);
    for (const v of VICTIMS) {
      assert.ok(targeted.includes(v), `${v} was signalled\n${log}`);
      assert.ok(!alive.has(v), `${v} was terminated`);
    }
  });
});
