/**
 * Issue 4 acceptance: SIGINT in the middle of apply → the built CLI stops creating, reports
 * what exists, prints the exact `virtwork cleanup … --run-id …` command and exits 130; that
 * command, run as printed, removes every object of the run. A second signal exits at once.
 * Apply is slowed down with a low client-side rate limit (--qps 4 --burst 1) and many VMs.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { closeAll, deleteNamespace, newNamespace, startCluster, startSimulator, waitFor } from "./harness.ts";
import {
  FAST,
  freshNamespaceName,
  managedObjects,
  names,
  namespaceLabels,
  objectsIn,
  spawnVirtwork,
  virtwork,
} from "./ops-cli.ts";

after(closeAll);

const SLOW = ["--workloads", "cpu", "--vm-count", "24", "--qps", "4", "--burst", "1", "-v"];

/** Resolves when the child's stderr matches `re` (debug events are JSON lines on stderr). */
function stderrMatches(stderrSoFar: () => string, re: RegExp, what: string) {
  return waitFor(() => re.test(stderrSoFar()), { timeoutMs: 60_000, intervalMs: 20, what });
}

test("SIGINT during apply: exit 130 and the printed cleanup command removes every object of the run", async () => {
  const ns = await newNamespace({ prefix: "sigint" });
  await ns.simulate({ delays: FAST });
  const kubeconfig = ns.kubeconfig();
  const child = await spawnVirtwork(["run", "-n", ns.name, ...SLOW], { kubeconfig });
  // In the middle of apply: the Secrets are done and VMs are being created.
  await stderrMatches(
    child.stderrSoFar,
    /"msg":"object_created".*"kind":"VirtualMachine"/,
    "the first VM created",
  );
  const signalledAt = Date.now();
  child.child.kill("SIGINT");
  const res = await child.result;
  const stopMs = Date.now() - signalledAt;
  assert.equal(res.code, 130, res.stderr.slice(-3000));
  // Requests queued behind the rate limit are dropped, not sent: it stops at once.
  assert.ok(stopMs < 2000, `exited ${stopMs} ms after SIGINT`);
  assert.match(res.stdout, /: interrupted \(interrupted while creating objects\)/);

  const m =
    /Interrupted: (\d+) objects of run (\S+) exist in namespace (\S+) \([^)]*counted in the cluster by label\)\. Remove them with:\n {2}(virtwork cleanup .*)\n/.exec(
      res.stderr,
    );
  assert.ok(m, `no cleanup command in stderr:\n${res.stderr.slice(-3000)}`);
  const [, reported, runId, reportedNs, command] = m as unknown as [string, string, string, string, string];
  assert.equal(reportedNs, ns.name);
  assert.equal(command, `virtwork cleanup -n ${ns.name} --run-id ${runId} --yes`);

  // What exists is a part of the run: every Secret, some but not all VMs.
  const before = await managedObjects(ns.name, runId);
  assert.equal(before.secrets.size, 24);
  assert.ok(before.vms.size >= 1 && before.vms.size < 24, `${before.vms.size} VMs exist`);
  // The report is what exists, counted in the cluster by label after the creates in flight settled.
  const exist = before.secrets.size + before.vms.size;
  assert.equal(Number(reported), exist, `reported ${reported}, exist ${exist}`);

  // Run the command exactly as printed (KUBECONFIG is set as for the run).
  const args = command.split(" ").slice(1);
  const clean = await virtwork(args, { kubeconfig });
  assert.equal(clean.code, 0, clean.stderr);
  await waitFor(
    async () => {
      const all = await objectsIn(ns.name);
      return Object.values(all).every((map) => map.size === 0) ? true : undefined;
    },
    { timeoutMs: 30_000, what: "every object of the run to be gone" },
  );
  const after = await objectsIn(ns.name);
  for (const [kind, map] of Object.entries(after)) assert.equal(map.size, 0, `${kind}: ${names(map)}`);
});

test("a second SIGINT exits at once with 130, and the audit records the run cancelled", async () => {
  const ns = await newNamespace({ prefix: "sigint2" });
  const child = await spawnVirtwork(["run", "-n", ns.name, ...SLOW, "--qps", "1"], {
    kubeconfig: ns.kubeconfig(),
  });
  await stderrMatches(
    child.stderrSoFar,
    /"msg":"object_created".*"kind":"Secret"/,
    "the first Secret created",
  );
  child.child.kill("SIGINT");
  await stderrMatches(child.stderrSoFar, /SIGINT received: stopping/, "the first signal's warning");
  const t0 = Date.now();
  child.child.kill("SIGINT");
  const res = await child.result;
  assert.equal(res.code, 130, res.stderr.slice(-2000));
  assert.ok(Date.now() - t0 < 3000, `exited ${Date.now() - t0} ms after the second SIGINT`);
  const runId = /"run_id":"([^"]+)"/.exec(res.stderr)?.[1];
  assert.ok(runId, "the run id is logged");
  const history = await virtwork(["history", "show", runId, "-o", "json"]);
  assert.equal(history.code, 0, history.stderr);
  const run = JSON.parse(history.stdout) as { status: string; errorSummary?: string };
  assert.equal(run.status, "cancelled", "not left in_progress");
  assert.equal(run.errorSummary, "interrupted by a second signal");
});

test("SIGINT right after start: the handler is already there; exit 130 and the hint says nothing was created", async () => {
  const ns = await newNamespace({ prefix: "sigint0" });
  const child = await spawnVirtwork(["run", "-n", ns.name, ...SLOW, "--qps", "1"], {
    kubeconfig: ns.kubeconfig(),
  });
  await new Promise((r) => setTimeout(r, 300));
  child.child.kill("SIGINT");
  const res = await child.result;
  assert.equal(res.code, 130, res.stderr.slice(-2000));
  const left = await managedObjects(ns.name);
  const exist = left.secrets.size + left.vms.size;
  if (exist === 0) {
    assert.match(res.stderr, /Interrupted: nothing created; no object of run \S+ exists in namespace /);
  } else {
    assert.match(res.stderr, new RegExp(`Interrupted: ${exist} objects of run \\S+ exist in namespace`));
  }
});

test("issue 32: a run interrupted in a namespace it created prints a cleanup that removes the namespace too", async () => {
  const ns = freshNamespaceName("sigintns");
  await startSimulator({ namespace: ns, delays: FAST });
  const kubeconfig = (await startCluster()).adminKubeconfig;
  try {
    const child = await spawnVirtwork(["run", "-n", ns, ...SLOW], { kubeconfig });
    await stderrMatches(
      child.stderrSoFar,
      /"msg":"object_created".*"kind":"VirtualMachine"/,
      "the first VM created",
    );
    child.child.kill("SIGINT");
    const res = await child.result;
    assert.equal(res.code, 130, res.stderr.slice(-3000));
    const m = /Remove them with:\n {2}(virtwork cleanup .*)\n/.exec(res.stderr);
    assert.ok(m, `no cleanup command in stderr:\n${res.stderr.slice(-3000)}`);
    const command = m[1] ?? "";
    assert.match(command, new RegExp(`^virtwork cleanup -n ${ns} --run-id \\S+ --yes --delete-namespace$`));
    const clean = await virtwork([...command.split(" ").slice(1), "--wait"], { kubeconfig });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, new RegExp(`Namespace ${ns} deleted\\.`));
    assert.equal(await namespaceLabels(ns), undefined, "the namespace the run created is gone");
  } finally {
    await deleteNamespace(ns, { wait: false }).catch(() => {});
  }
});
