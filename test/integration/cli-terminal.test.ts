/**
 * Issue 17 acceptance: the built CLI in a real pseudo-terminal (util-linux `script`) against the
 * local cluster with the simulator. On the screen: no JSON, one ✓ line per step, no line glued
 * onto a progress line, the true final counts, every VM named. The same run piped: JSON lines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { screenOf } from "../unit/screen.ts";
import { closeAll, newNamespace, type TestNamespace } from "./harness.ts";
import { BIN, ensureBuilt, FAST, virtwork } from "./ops-cli.ts";

after(closeAll);

const home = mkdtempSync(join(tmpdir(), "virtwork-pty-home-"));

/** Runs the CLI inside `script`, i.e. with a pty as stdin, stdout and stderr; returns the raw bytes. */
function inTerminal(
  args: string[],
  kubeconfig: string,
  answer?: { prompt: string; reply: string },
): Promise<{ code: number; raw: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  return new Promise((resolve) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig, TERM: "xterm", COLUMNS: "120" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let raw = "";
    let answered = false;
    child.stdout.on("data", (c: Buffer) => {
      raw += c.toString("utf8");
      if (answer && !answered && raw.includes(answer.prompt)) {
        answered = true;
        child.stdin.write(answer.reply);
      }
    });
    if (!answer) child.stdin.end();
    child.on("close", (code) => resolve({ code: code ?? -1, raw }));
  });
}

const STEPS = [
  "Checking the cluster for KubeVirt and CDI",
  "Ensuring the namespace",
  "Checking for objects already there",
  "Creating services",
  "Creating secrets",
  "Creating virtual machines",
  "Waiting for the VMs to run",
];
const VMS = ["virtwork-cpu-0", "virtwork-network-server-0", "virtwork-network-client-0"];

describe("virtwork run in a terminal", () => {
  let ns: TestNamespace;
  before(async () => {
    await ensureBuilt();
    ns = await newNamespace({ prefix: "pty" });
    await ns.simulate({ delays: FAST });
  });

  test("text, one ✓ line per step with the true final counts, every VM named, nothing glued", async () => {
    const { code, raw } = await inTerminal(["run", "-w", "cpu,network", "--timeout", "120"], ns.kubeconfig());
    const screen = screenOf(raw);
    const shown = screen.join("\n");
    assert.equal(code, 0, shown);
    assert.ok(!screen.some((l) => l.trimStart().startsWith("{")), `JSON on the terminal:\n${shown}`);
    assert.match(
      shown,
      new RegExp(
        `^deploying run_id=\\S+ namespace=${ns.name} namespace_from="kubeconfig context admin"`,
        "m",
      ),
    );
    const steps = screen.filter((l) => /^ [✓✗] /.test(l));
    assert.deepEqual(
      steps.map((l) => l.replace(/^ ([✓✗]) ([^:(]+?)(:| \().*$/, "$1 $2")),
      STEPS.map((s) => `✓ ${s}`),
      shown,
    );
    assert.match(shown, /^ ✓ Ensuring the namespace: 1 already present /m);
    assert.match(shown, /^ ✓ Creating virtual machines: 3 created \(\d+\.\ds\)$/m);
    assert.match(shown, /^ ✓ Creating secrets: 3 created /m);
    assert.match(shown, /^ ✓ Waiting for the VMs to run: 3\/3 running, 3 ready /m);
    // No glued lines: a step mark only ever starts a line, a log line never follows progress text.
    for (const line of screen) {
      assert.ok(!/.[✓✗] /.test(line.slice(2)), `glued: ${line}`);
      assert.ok(!/objects\S|VMs\S*deploying/.test(line), `glued: ${line}`);
    }
    for (const vm of VMS) assert.match(shown, new RegExp(`^${vm}\\s+\\S+\\s+\\S+\\s+Running\\s`, "m"));
    assert.match(shown, /^NAME\s+WORKLOAD\s+ROLE\s+PHASE\s+NODE\s+IP\s+RUNNING-AFTER$/m);
  });

  test("the same run piped gives JSON lines on stderr, the steps among them", async () => {
    const res = await virtwork(["run", "-w", "cpu,network", "--timeout", "120"], {
      kubeconfig: ns.kubeconfig(),
    });
    assert.equal(res.code, 0, res.stderr);
    const records = res.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; step?: string; existing?: number });
    const steps = records.filter((r) => r.msg === "step");
    assert.deepEqual(
      steps.map((r) => r.step),
      ["preflight", "namespace", "existing objects", "services", "secrets", "virtual machines", "wait"],
    );
    assert.equal(steps.find((r) => r.step === "virtual machines")?.existing, 3, "the re-run finds the VMs");
    assert.ok(!res.stderr.includes("\r") && !res.stderr.includes("\x1b["), "no terminal controls in a pipe");
  });

  test("status in a terminal: NAME first; cleanup accepts y", async () => {
    const status = await inTerminal(["status"], ns.kubeconfig());
    const screen = screenOf(status.raw);
    assert.equal(status.code, 0, screen.join("\n"));
    assert.match(screen[0] ?? "", /^NAME\s+WORKLOAD\s+ROLE\s+PHASE\s+NODE\s+IP\s+AGE\s+RUN$/);
    const names = await virtwork(["status", "-o", "name"], { kubeconfig: ns.kubeconfig() });
    assert.deepEqual(names.stdout.trim().split("\n").sort(), VMS.map((v) => `virtualmachine/${v}`).sort());
    const runs = await virtwork(["status", "--runs"], { kubeconfig: ns.kubeconfig() });
    assert.match(
      runs.stdout,
      /^RUN-ID\s+VMS\s+RUNNING\s+AGE\s+WORKLOADS\n\S+\s+3\s+3\s+\d+s\s+cpu,network\n$/,
    );
    const all = await virtwork(["status", "-A", "-o", "wide"], { kubeconfig: ns.kubeconfig() });
    assert.match(all.stdout, /^NAMESPACE\s+NAME\s+/);
    assert.match(all.stdout, new RegExp(`^${ns.name}\\s+virtwork-cpu-0\\s`, "m"));
    const cleanup = await inTerminal(["cleanup", "--wait"], ns.kubeconfig(), {
      prompt: "[y/N]",
      reply: "y\r",
    });
    const shown = screenOf(cleanup.raw).join("\n");
    assert.equal(cleanup.code, 0, shown);
    assert.match(shown, /^Deleted 3 VirtualMachines, /m);
    assert.match(shown, /^ ✓ Deleting objects: /m);
  });
});

describe("--dry-run=server", () => {
  test("says what would be created and offers no cleanup", async () => {
    const ns = await newNamespace({ prefix: "ptysrv" });
    const res = await virtwork(["run", "--dry-run=server", "-w", "cpu"], { kubeconfig: ns.kubeconfig() });
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stdout,
      /^Server dry run of run \S+ in namespace it-ptysrv-\S+: the cluster accepted every object; nothing was created\.$/m,
    );
    assert.match(res.stdout, /^Would create 1 Secret, 1 VirtualMachine/m);
    assert.match(res.stdout, /^virtwork-cpu-0\s+cpu\s+-$/m);
    assert.doesNotMatch(res.stdout, /cleanup|Created /);
  });
});
