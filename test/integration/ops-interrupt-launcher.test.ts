/**
 * Issue 14: signals stop the run whatever sends them. bin/virtwork started with an old Node
 * first on PATH (the machine's /usr/bin/node is v20, older than 22.12) runs the CLI on the
 * pinned Node as a child process; SIGINT sent to the launcher's pid only (as `timeout`, CI
 * runners and supervisors do) must stop the real CLI: exit 130, no VM created after the
 * signal, no process left behind, and the hint counts what exists in the cluster.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { closeAll, newNamespace, waitFor } from "./harness.ts";
import { FAST, managedObjects, spawnVirtwork } from "./ops-cli.ts";

after(closeAll);

const OLD_NODE = "/usr/bin/node";

function nodeVersion(bin: string): [number, number] {
  const v = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  const [major, minor] = v.slice(1).split(".").map(Number) as [number, number];
  return [major, minor];
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("SIGINT to the launcher (old Node first on PATH) stops the real CLI: exit 130, nothing created after", async (t) => {
  const [major, minor] = nodeVersion(OLD_NODE);
  if (major > 22 || (major === 22 && minor >= 12)) {
    t.skip(`${OLD_NODE} is ${major}.${minor}: not older than 22.12, the launcher would not spawn`);
    return;
  }
  const ns = await newNamespace({ prefix: "launcher" });
  await ns.simulate({ delays: FAST });
  const child = await spawnVirtwork(
    ["run", "-n", ns.name, "--workloads", "cpu", "--vm-count", "40", "--qps", "4", "--burst", "1", "-v"],
    {
      kubeconfig: ns.kubeconfig(),
      asExecutable: true,
      env: {
        PATH: `/usr/bin:${process.env.PATH}`,
        // The launcher finds the pinned Node in the real cache (HOME is a test one).
        XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"),
      },
    },
  );
  const launcher = child.child.pid as number;
  await waitFor(() => /"msg":"object_created".*"kind":"VirtualMachine"/.test(child.stderrSoFar()), {
    timeoutMs: 90_000,
    intervalMs: 20,
    what: "the first VM created",
  });
  const real = childrenOf(launcher);
  assert.equal(real.length, 1, "the launcher runs the CLI as one child process");
  process.kill(launcher, "SIGINT"); // the launcher only, not its process group
  const res = await child.result;
  assert.equal(res.code, 130, res.stderr.slice(-3000));
  assert.ok(!alive(real[0] as number), "the real CLI is gone");
  assert.match(res.stderr, /SIGINT received: stopping/);

  const m = /Interrupted: (\d+) objects of run (\S+) exist in namespace \S+ \(/.exec(res.stderr);
  assert.ok(m, res.stderr.slice(-2000));
  const runId = m[2] as string;
  const atExit = await managedObjects(ns.name, runId);
  assert.equal(Number(m[1]), atExit.vms.size + atExit.secrets.size, "the hint counts what exists");
  assert.ok(atExit.vms.size < 40, `${atExit.vms.size} VMs: the run stopped`);
  // Nothing keeps creating after the exit.
  await new Promise((r) => setTimeout(r, 3000));
  const later = await managedObjects(ns.name, runId);
  assert.equal(later.vms.size, atExit.vms.size, "no VM created after the signal");
});
